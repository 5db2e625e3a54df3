"""Live reads: find the current TPNS status of every declared task with the fewest calls.

`get_push_record` is scarce (200 calls an hour per app), so refresh (docs/design.md):
skips tasks whose recorded status is settled and already satisfies the manifest, and tasks
dated before TPNS's record horizon (no read can answer them); mixes single-task reads and
date-range pages per app, whichever needs fewer calls (read_plan.py); checks the quota before
the first call; and reports the calls made beside the lower bound.
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
    PAGE_SIZE,
    RECORD_PATH,
    DatedTasks,
    HorizonWindow,
    estimated_catalog_pages,
    list_catalog,
)
from reconciler.engine.read_plan import ReadPlan, ReadTarget, lower_bound, plan_reads
from reconciler.errors import QuotaExceeded
from reconciler.records import (
    LiveTask,
    StateSnapshot,
    TaskBinding,
)
from reconciler.tpns.errors import PushIdNotFound

log = logging.getLogger(__name__)

__all__ = ["PAGE_SIZE", "RECORD_PATH", "refresh_live_tasks"]

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


@dataclass
class ReadSelection:
    #: Per app, the tasks to read.
    reads: dict[str, list[ReadTarget]] = field(default_factory=dict)
    #: Answers the state already holds: settled tasks that satisfy the manifest.
    known: dict[str, LiveTask] = field(default_factory=dict)
    #: Tasks dated before the horizon: no read can answer them; the planner judges them from
    #: state, as it does any task that TPNS no longer shows.
    past_horizon: int = 0


def select_reads(
    desired: Sequence[DeclaredTask], state: StateSnapshot, mode: RefreshMode, window: HorizonWindow
) -> ReadSelection:
    """Split declared tasks into reads needed (per app), answers state holds, and the unreadable."""
    selection = ReadSelection()
    for task in desired:
        push_id = push_id_of(task, state)
        if push_id is None:
            continue
        binding = recorded_binding(task, state)
        known_date = binding.date if binding is not None and binding.push_id == push_id else None
        if mode == "auto" and binding is not None and binding.push_id == push_id:
            satisfied = SETTLED_SATISFYING[task.task.spec.state]
            recorded = from_state(binding)
            if recorded is not None and recorded.settled and recorded.status in satisfied:
                selection.known[task.address] = recorded
                continue
        if not window.readable(known_date):
            selection.past_horizon += 1
            continue
        target = ReadTarget(address=task.address, push_id=push_id, known_date=known_date)
        selection.reads.setdefault(task.task.metadata.app, []).append(target)
    return selection


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
    window = HorizonWindow.at(now, utc_offset=utc_offset)
    selection = select_reads(desired, state, mode, window)
    # An app without a client is not in pushctl.yaml: the planner reports it (app.unknown).
    reads = {app: targets for app, targets in selection.reads.items() if app in readers}
    result = RefreshResult(live=dict(selection.known))
    if selection.past_horizon:
        log.info("refresh: %d task(s) dated before the record horizon", selection.past_horizon)
    dated = DatedTasks.of(state, window)
    guarded = sorted({d.task.metadata.app for d in desired if needs_guard(d, state)} & set(readers))
    expected = {app: estimated_catalog_pages(dated, app, window) for app in guarded}
    # Quota first, for every call this refresh makes: the guard's listings answer their app's
    # reads too; a listing the quota cannot cover leaves the guard blind, not the plan.
    blind = {app: quota_short(quotas.get(app), expected[app]) for app in guarded}
    listed = [app for app in guarded if not blind[app]]
    plans = {
        app: plan_reads(app, targets, dated, window)
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
                plans[app] = plan_reads(app, reads[app], dated, window)
                check_quota({app: plans[app]}, quotas)
            continue
        # The listing covers every readable task: it answers the app's reads as well.
        by_id = {t.push_id: t for t in catalog.tasks}
        for target in reads.pop(app, []):
            if target.push_id in by_id:
                result.live[target.address] = by_id[target.push_id]
        result.lower_bound += max(1, math.ceil(len(catalog.tasks) / PAGE_SIZE))
    for app, targets in sorted(reads.items()):
        await _read_targets(readers[app], targets, plans[app], result)
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
    reader: RecordReader, targets: Sequence[ReadTarget], plan: ReadPlan, result: RefreshResult
) -> None:
    result.lower_bound += lower_bound(targets)
    log.info(
        "refresh: %d task(s) by %s, %d call(s) expected", len(targets), plan.describe(), plan.calls
    )
    before = Counter(reader.calls_made)
    result.live.update(await read_planned(reader, targets, plan))
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


def check_quota(plans: Mapping[str, ReadPlan], quotas: Mapping[str, QuotaView]) -> None:
    for app, plan in sorted(plans.items()):
        needed = plan.calls
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


async def read_planned(
    reader: RecordReader, targets: Sequence[ReadTarget], plan: ReadPlan
) -> dict[str, LiveTask]:
    """Address -> live task, for every target the plan's reads found."""
    live: dict[str, LiveTask] = {}
    for target in plan.singles:
        try:
            live[target.address] = await reader.get_push_record(target.push_id)
        except PushIdNotFound:
            continue  # older than the record horizon, or never existed: the planner says which
    by_id: dict[str, LiveTask] = {}
    for days in plan.ranges:
        records = await reader.list_push_records(
            start_date=days.start, end_date=days.end, page_size=PAGE_SIZE
        )
        by_id.update((r.push_id, r) for r in records)
    for target in targets:
        if target.address not in live and target.push_id in by_id:
            live[target.address] = by_id[target.push_id]
    return live


async def read_push_ids(
    reader: RecordReader,
    app: str,
    wanted: Mapping[str, datetime | None],
    *,
    now: datetime,
    state: StateSnapshot,
    utc_offset: str = "+08:00",
) -> dict[str, LiveTask]:
    """Read these push ids of the app (with their dates when known), singly or by pages,
    whichever is fewer; the state's dated tasks tell how full each page would be."""
    window = HorizonWindow.at(now, utc_offset=utc_offset)
    targets = [
        ReadTarget(address=p, push_id=p, known_date=d)
        for p, d in sorted(wanted.items())
        if window.readable(d)
    ]
    if not targets:
        return {}
    plan = plan_reads(app, targets, DatedTasks.of(state, window), window)
    return await read_planned(reader, targets, plan)
