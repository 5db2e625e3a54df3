"""How to read a set of tasks with the fewest get_push_record calls.

A single read answers one task; a date-range page answers up to 200, but every task dated in
its range fills the page, settled or not. So the cheapest read of some tasks splits their days
into runs: a run whose days hold few other tasks is read by pages, a task alone among many by a
single read. State says how many tasks each app has on each day (`DatedTasks`); tasks it does
not know may add pages, which a listing reads on until TPNS's `count`. A task of unknown date
is read singly, unless one listing of the whole horizon costs less.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from reconciler.engine.live_catalog import PAGE_SIZE, DatedTasks, HorizonWindow


@dataclass(frozen=True)
class ReadTarget:
    address: str
    push_id: str
    known_date: datetime | None


@dataclass(frozen=True)
class DayRange:
    """TPNS days read by pages, and the pages state expects them to take."""

    start: date
    end: date
    pages: int


@dataclass(frozen=True)
class ReadPlan:
    singles: tuple[ReadTarget, ...] = ()
    ranges: tuple[DayRange, ...] = ()

    @property
    def calls(self) -> int:
        return len(self.singles) + sum(r.pages for r in self.ranges)

    def describe(self) -> str:
        pages = sum(r.pages for r in self.ranges)
        return f"{len(self.singles)} single read(s), {len(self.ranges)} range(s) of {pages} page(s)"


def lower_bound(targets: Sequence[ReadTarget]) -> int:
    """No refresh of these tasks can use fewer calls: a page holds at most 200 records."""
    return math.ceil(len(targets) / PAGE_SIZE) if targets else 0


def plan_reads(
    app: str, targets: Sequence[ReadTarget], dated: DatedTasks, window: HorizonWindow
) -> ReadPlan:
    """The cheapest mix of single reads and day ranges that answers every target."""
    unknown = tuple(t for t in targets if t.known_date is None)
    by_day: dict[date, list[ReadTarget]] = defaultdict(list)
    for target in targets:
        if target.known_date is not None:
            day = target.known_date.astimezone(window.zone).date()
            by_day[max(day, window.start_date)].append(target)
    split = _split_days(app, by_day, dated)
    best = ReadPlan(singles=split.singles + unknown, ranges=split.ranges)
    if not unknown:
        return best
    # A task of unknown date may be anywhere TPNS still shows: only the whole horizon finds it.
    known = dated.between(app, window.start_date, window.end_date)
    whole = DayRange(window.start_date, window.end_date, _pages(known + len(unknown)))
    return best if best.calls <= whole.pages else ReadPlan(ranges=(whole,))


def _split_days(app: str, by_day: dict[date, list[ReadTarget]], dated: DatedTasks) -> ReadPlan:
    """Runs of consecutive target days, each read singly or by pages (fewest calls in all).

    cost[j] is the cheapest read of the first j days; the last run of them is days i..j-1.
    """
    days = sorted(by_day)
    wanted = [0]
    for day in days:
        wanted.append(wanted[-1] + len(by_day[day]))

    def run_pages(i: int, j: int) -> int:
        return _pages(max(dated.between(app, days[i], days[j - 1]), wanted[j] - wanted[i]))

    cost: list[float] = [0.0] + [math.inf] * len(days)
    start_of_run = [0] * (len(days) + 1)
    for j in range(1, len(days) + 1):
        for i in range(j):
            run = min(wanted[j] - wanted[i], run_pages(i, j))
            if cost[i] + run < cost[j]:
                cost[j], start_of_run[j] = cost[i] + run, i
    runs: list[tuple[int, int]] = []
    j = len(days)
    while j:
        runs.append((start_of_run[j], j))
        j = start_of_run[j]
    singles: list[ReadTarget] = []
    ranges: list[DayRange] = []
    for i, j in reversed(runs):
        pages = run_pages(i, j)
        if pages < wanted[j] - wanted[i]:
            ranges.append(DayRange(days[i], days[j - 1], pages))
        else:
            singles += (t for day in days[i:j] for t in by_day[day])
    return ReadPlan(singles=tuple(singles), ranges=tuple(ranges))


def _pages(tasks: int) -> int:
    return max(1, math.ceil(tasks / PAGE_SIZE))
