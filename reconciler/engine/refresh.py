"""Live reads: find the current TPNS status of every declared task with the fewest calls.

`get_push_record` is scarce (200 calls an hour per app), so refresh (docs/design.md):
skips tasks whose recorded status is settled and already satisfies the manifest; chooses per app
between single-task reads and date-range pages, whichever needs fewer calls; checks the quota
before the first call; and reports the calls made beside the lower bound.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from reconciler.domain.capabilities import SETTLED_SATISFYING
from reconciler.domain.duplicate_guard import LiveCatalog, needs_guard
from reconciler.domain.manifest.models import DeclaredTask
from reconciler.domain.plan import ApiUsage
from reconciler.engine.live_catalog import (
    HORIZON,
    PAGE_SIZE,
    RECORD_PATH,
    SCHEDULE_AHEAD,
    HorizonWindow,
    estimated_catalog_pages,
    list_catalog,
)
from reconciler.errors import QuotaExceeded
from reconciler.records import (
    LiveTask,
    StateSnapshot,
    TaskBinding,
)
from reconciler.tpns.errors import PushIdNotFound

log = logging.getLogger(__name__)

__all__ = ["HORIZON", "PAGE_SIZE", "RECORD_PATH", "SCHEDULE_AHEAD", "refresh_live_tasks"]

RefreshMode = Literal["auto", "all"]


class RecordReader(Protocol):
    """The part of TpnsClient that refresh uses; `calls_made` counts requests sent per path."""

    calls_made: Counter[str]

    async def get_push_record(self, push_id: str) -> LiveTask: ...

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = PAGE_SIZE
    ) -> list[LiveTask]: ...


class QuotaView(Protocol):
    def remaining(self, path: str) -> int: ...

    def resets_at(self, path: str) -> float: ...


@dataclass(frozen=True)
class ReadTarget:
    address: str
    push_id: str
    known_date: datetime | None


@dataclass
class RefreshResult:
    live: dict[str, LiveTask] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    lower_bound: int = 0
    #: Per app with a task state does not tie to a push: its live tasks, for the guard.
    catalogs: dict[str, LiveCatalog] = field(default_factory=dict)

    @property
    def usage(self) -> ApiUsage:
        return ApiUsage(calls=dict(self.calls), lower_bound=self.lower_bound)


def push_id_of(task: DeclaredTask, state: StateSnapshot) -> str | None:
    """The live task a declaration points at: its pushId, or the one pushctl created (bound,
    or forgotten and declared again)."""
    if task.task.spec.push_id:
        return task.task.spec.push_id
    binding = recorded_binding(task, state)
    return binding.push_id if binding else None


def recorded_binding(task: DeclaredTask, state: StateSnapshot) -> TaskBinding | None:
    return state.bindings.get(task.address) or state.tombstones.get(task.address)


def from_state(binding: TaskBinding) -> LiveTask | None:
    """A settled task's last recorded status stands in for a read."""
    if binding.last_status is None or binding.date is None:
        return None
    return LiveTask(
        push_id=binding.push_id,
        status=binding.last_status,
        date=binding.date,
        push_type=str(binding.body.get("audience_type", "")),
        message_type=str(binding.body.get("message_type", "")),
        collapse_id=binding.collapse_id,
        raw={"source": "state"},
    )


def select_reads(
    desired: Sequence[DeclaredTask], state: StateSnapshot, mode: RefreshMode
) -> tuple[dict[str, list[ReadTarget]], dict[str, LiveTask]]:
    """Split declared tasks into reads needed (per app) and answers the state already holds."""
    reads: dict[str, list[ReadTarget]] = {}
    known: dict[str, LiveTask] = {}
    for task in desired:
        push_id = push_id_of(task, state)
        if push_id is None:
            continue
        binding = recorded_binding(task, state)
        if mode == "auto" and binding is not None and binding.push_id == push_id:
            satisfied = SETTLED_SATISFYING[task.task.spec.state]
            recorded = from_state(binding)
            if recorded is not None and recorded.settled and recorded.status in satisfied:
                known[task.address] = recorded
                continue
        known_date = binding.date if binding is not None and binding.push_id == push_id else None
        target = ReadTarget(address=task.address, push_id=push_id, known_date=known_date)
        reads.setdefault(task.task.metadata.app, []).append(target)
    return reads, known


def lower_bound(targets: Sequence[ReadTarget]) -> int:
    """No refresh of these tasks can use fewer calls: a page holds at most 200 records."""
    return math.ceil(len(targets) / PAGE_SIZE) if targets else 0


def date_window(targets: Sequence[ReadTarget], now: datetime) -> tuple[datetime, datetime]:
    """The date range that holds every target (the whole horizon when a date is unknown)."""
    dates = [t.known_date for t in targets if t.known_date is not None]
    if len(dates) < len(targets):
        return now - HORIZON, now + SCHEDULE_AHEAD
    return max(min(dates), now - HORIZON), max(dates)


def estimated_pages(targets: Sequence[ReadTarget], state: StateSnapshot, now: datetime) -> int:
    """Pages a date-range read needs, counting every task state knows in the window.

    Tasks unknown to state may also fall in the window; the first page's `count` corrects this.
    """
    start, end = date_window(targets, now)
    wanted = {t.push_id for t in targets}
    others = sum(
        1
        for b in state.bindings.values()
        if b.push_id not in wanted and b.date is not None and start <= b.date <= end
    )
    return math.ceil((len(targets) + others) / PAGE_SIZE)


async def refresh_live_tasks(
    desired: Sequence[DeclaredTask],
    state: StateSnapshot,
    readers: Mapping[str, RecordReader],
    quotas: Mapping[str, QuotaView],
    *,
    now: datetime,
    mode: RefreshMode = "auto",
    utc_offset: str = "+08:00",
) -> RefreshResult:
    reads, known = select_reads(desired, state, mode)
    # An app without a client is not in pushctl.yaml: the planner reports it (app.unknown).
    reads = {app: targets for app, targets in reads.items() if app in readers}
    result = RefreshResult(live=dict(known))
    window = HorizonWindow.at(now, utc_offset=utc_offset)
    guarded = sorted({d.task.metadata.app for d in desired if needs_guard(d, state)} & set(readers))
    expected = {app: estimated_catalog_pages(state, app, window) for app in guarded}
    # Quota first, for every call this refresh makes: the guard's listings answer their app's
    # reads too; a listing the quota cannot cover leaves the guard blind, not the plan.
    blind = {app: quota_short(quotas.get(app), expected[app]) for app in guarded}
    listed = [app for app in guarded if not blind[app]]
    plans = {
        app: choose_strategy(targets, state, now)
        for app, targets in reads.items()
        if app not in listed
    }
    check_quota(plans, quotas)
    for app in guarded:
        if blind[app]:
            result.catalogs[app] = LiveCatalog(since=window.since, unavailable=blind[app])
            continue
        catalog = await _list_guard_catalog(readers[app], window, result)
        result.catalogs[app] = catalog
        if catalog.unavailable:
            if reads.get(app):
                plans[app] = choose_strategy(reads[app], state, now)
                check_quota({app: plans[app]}, quotas)
            continue
        # The listing covers every readable task: it answers the app's reads as well.
        by_id = {t.push_id: t for t in catalog.tasks}
        for target in reads.pop(app, []):
            if target.push_id in by_id:
                result.live[target.address] = by_id[target.push_id]
        result.lower_bound += max(1, math.ceil(len(catalog.tasks) / PAGE_SIZE))
    for app, targets in sorted(reads.items()):
        await _read_targets(readers[app], targets, plans[app], result, now, utc_offset)
    return result


async def _list_guard_catalog(
    reader: RecordReader, window: HorizonWindow, result: RefreshResult
) -> LiveCatalog:
    before = Counter(reader.calls_made)
    try:
        return await list_catalog(reader, window)
    finally:
        result.calls.update(reader.calls_made - before)


async def _read_targets(
    reader: RecordReader,
    targets: Sequence[ReadTarget],
    plan: tuple[Literal["single", "range"], int],
    result: RefreshResult,
    now: datetime,
    utc_offset: str,
) -> None:
    result.lower_bound += lower_bound(targets)
    strategy, needed = plan
    log.info("refresh: %d task(s) by %s reads, %d call(s) expected", len(targets), strategy, needed)
    before = Counter(reader.calls_made)
    if strategy == "range":
        await read_by_range(reader, targets, result, now=now, utc_offset=utc_offset)
    else:
        await read_singly(reader, targets, result)
    result.calls.update(reader.calls_made - before)


def quota_short(quota: QuotaView | None, needed: int) -> str:
    """Why the quota cannot cover `needed` reads now; empty when it can."""
    if quota is None:
        return ""
    left = quota.remaining(RECORD_PATH)
    if needed <= left:
        return ""
    back = datetime.fromtimestamp(quota.resets_at(RECORD_PATH)).astimezone()
    return (
        f"listing its live tasks needs {needed} get_push_record call(s) and {left} are left "
        f"this hour; quota returns by {back:%H:%M %z}"
    )


def choose_strategy(
    targets: Sequence[ReadTarget], state: StateSnapshot, now: datetime
) -> tuple[Literal["single", "range"], int]:
    pages = estimated_pages(targets, state, now)
    if len(targets) <= pages:
        return "single", len(targets)
    return "range", pages


def check_quota(
    plans: Mapping[str, tuple[Literal["single", "range"], int]], quotas: Mapping[str, QuotaView]
) -> None:
    for app, (_, needed) in sorted(plans.items()):
        quota = quotas.get(app)
        if quota is None or needed == 0:
            continue
        left = quota.remaining(RECORD_PATH)
        if needed > left:
            back = datetime.fromtimestamp(quota.resets_at(RECORD_PATH)).astimezone()
            raise QuotaExceeded(
                f"refreshing app {app} needs {needed} get_push_record calls; "
                f"{left} are left this hour",
                hint=f"quota returns by {back:%Y-%m-%d %H:%M:%S %z}; run plan again then, "
                "or narrow it with --target",
            )


async def read_singly(
    reader: RecordReader, targets: Sequence[ReadTarget], result: RefreshResult
) -> None:
    for target in targets:
        try:
            task = await reader.get_push_record(target.push_id)
        except PushIdNotFound:
            continue  # older than the record horizon, or never existed: the planner says which
        result.live[target.address] = task


async def read_by_range(
    reader: RecordReader,
    targets: Sequence[ReadTarget],
    result: RefreshResult,
    *,
    now: datetime,
    utc_offset: str,
) -> None:
    start, end = date_window(targets, now)
    zone = datetime.strptime(utc_offset, "%z").tzinfo
    records = await reader.list_push_records(
        start_date=start.astimezone(zone).date(),
        end_date=end.astimezone(zone).date(),
        page_size=PAGE_SIZE,
    )
    by_id = {r.push_id: r for r in records}
    for target in targets:
        if target.push_id in by_id:
            result.live[target.address] = by_id[target.push_id]


async def read_push_ids(
    reader: RecordReader,
    wanted: Mapping[str, datetime | None],
    *,
    now: datetime,
    utc_offset: str = "+08:00",
) -> dict[str, LiveTask]:
    """Read these push ids (with their dates when known), singly or by pages, whichever is fewer."""
    targets = [ReadTarget(address=p, push_id=p, known_date=d) for p, d in sorted(wanted.items())]
    if not targets:
        return {}
    empty = StateSnapshot(lineage="", serial=0)
    strategy, _ = choose_strategy(targets, empty, now)
    result = RefreshResult()
    if strategy == "range":
        await read_by_range(reader, targets, result, now=now, utc_offset=utc_offset)
    else:
        await read_singly(reader, targets, result)
    return result.live
