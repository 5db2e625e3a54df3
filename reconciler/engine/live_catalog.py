"""Listing an app's live tasks across TPNS's whole record horizon, for the duplicate guard.

`get_push_record` by date range keeps a month of tasks (and scheduled ones up to 90 days
ahead); the guard reads all of them, page by page, when a declared task has no push id in
state, so the planner can recognise a push that was already sent.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import accumulate
from typing import Protocol

from reconciler.domain.body import parse_utc_offset
from reconciler.domain.capabilities import RECORD_HORIZON
from reconciler.domain.duplicate_guard import LiveCatalog
from reconciler.domain.planning_context import MAX_SCHEDULE_AHEAD
from reconciler.errors import PushctlError
from reconciler.records import LiveTask, StateSnapshot

RECORD_PATH = "/v3/statistics/get_push_record"
PAGE_SIZE = 200
#: TPNS keeps push records for about a month.
HORIZON = RECORD_HORIZON
#: Scheduled tasks can be dated up to 90 days ahead.
SCHEDULE_AHEAD = MAX_SCHEDULE_AHEAD


class RangeReader(Protocol):
    calls_made: Counter[str]

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = PAGE_SIZE
    ) -> list[LiveTask]: ...


@dataclass(frozen=True)
class HorizonWindow:
    """Every date TPNS can still report: a month back, 90 days ahead."""

    since: datetime
    until: datetime
    start_date: date
    end_date: date
    #: TPNS's time zone: its dates are days there.
    zone: tzinfo

    @classmethod
    def at(cls, now: datetime, *, utc_offset: str) -> HorizonWindow:
        zone = parse_utc_offset(utc_offset)
        since, until = now - HORIZON, now + SCHEDULE_AHEAD
        return cls(
            since=since,
            until=until,
            start_date=since.astimezone(zone).date(),
            end_date=until.astimezone(zone).date(),
            zone=zone,
        )

    def readable(self, when: datetime | None) -> bool:
        """False for a task dated before the horizon: TPNS answers no read of it."""
        return when is None or when >= self.since


class DatedTasks:
    """Per app, how many tasks state knows on each TPNS day from the record horizon on.

    A date-range page counts every task dated in its range, settled or not: this is what
    estimates pages, without walking the whole state for each estimate. Tasks dated before
    the horizon are left out, as TPNS leaves them out of every listing.
    """

    def __init__(self, per_app: dict[str, Counter[date]]) -> None:
        self._days: dict[str, list[date]] = {}
        self._running: dict[str, list[int]] = {}
        for app, counts in per_app.items():
            days = sorted(counts)
            self._days[app] = days
            self._running[app] = [0, *accumulate(counts[day] for day in days)]

    @classmethod
    def of(cls, state: StateSnapshot, window: HorizonWindow) -> DatedTasks:
        per_app: dict[str, Counter[date]] = defaultdict(Counter)
        for binding in state.bindings.values():
            if binding.date is None:
                continue
            day = binding.date.astimezone(window.zone).date()
            if day >= window.start_date:
                per_app[binding.app][day] += 1
        return cls(per_app)

    def between(self, app: str, start: date, end: date) -> int:
        """Tasks of the app state knows dated from `start` to `end` (TPNS days, inclusive)."""
        days = self._days.get(app)
        if not days:
            return 0
        running = self._running[app]
        return running[bisect_right(days, end)] - running[bisect_left(days, start)]


def estimated_catalog_pages(dated: DatedTasks, app: str, window: HorizonWindow) -> int:
    """Pages the listing needs, counting the app's tasks state knows in the window (at least 1).

    Tasks unknown to state may be there too: the listing reads on until TPNS's `count`.
    """
    known = dated.between(app, window.start_date, window.end_date)
    return max(1, math.ceil(known / PAGE_SIZE))


async def list_catalog(reader: RangeReader, window: HorizonWindow) -> LiveCatalog:
    """Every live task of the app in the window; a failure makes the catalog `unavailable`."""
    try:
        tasks = await reader.list_push_records(
            start_date=window.start_date, end_date=window.end_date, page_size=PAGE_SIZE
        )
    except PushctlError as exc:
        return LiveCatalog(since=window.since, unavailable=f"TPNS did not answer: {exc.message}")
    return LiveCatalog(tasks=tuple(tasks), since=window.since)
