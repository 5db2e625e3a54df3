"""One apply run: locks, stale checks, the executor, and the convergence check after it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.domain.plan import MUTATING_ACTIONS, Plan
from reconciler.domain.planner import live_fingerprint
from reconciler.engine.apply import (
    ApplyOptions,
    ApplyReport,
    ChangeOutcome,
    apply_plan,
)
from reconciler.engine.audit_trail import AuditTrail
from reconciler.engine.crash_points import (
    CrashingStore,
    audit_appender,
    crash_plan_from_environment,
)
from reconciler.engine.fencing import FencedClient
from reconciler.engine.ports import ApplyStore
from reconciler.engine.refresh import read_push_ids
from reconciler.records import LiveTask, StateSnapshot, TaskCall
from reconciler.state.audit import Provenance
from reconciler.state.store import LockHolder, StateStore
from reconciler.tpns.client import TpnsClient


@dataclass(frozen=True)
class ApplyRun:
    run_id: str
    holder: LockHolder
    provenance: Provenance
    lock_timeout: float
    now: Callable[[], datetime]
    utc_offset: str = "+08:00"
    secrets: Sequence[str] = ()
    read_back_grace: Mapping[str, float] = field(default_factory=dict)
    on_outcome: Callable[[ChangeOutcome], None] | None = None


def plan_apps(plan: Plan) -> list[str]:
    return sorted({c.app for c in plan.changes})


def plan_dates(plan: Plan) -> dict[str, dict[str, datetime | None]]:
    """Per app, each touched push id and its date as the plan saw it."""
    out: dict[str, dict[str, datetime | None]] = {}
    for change in plan.changes:
        if change.action not in MUTATING_ACTIONS or change.push_id is None:
            continue
        raw = (change.before or {}).get("date")
        when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        out.setdefault(change.app, {})[change.push_id] = when
    return out


async def reread_touched(
    plan: Plan,
    clients: Mapping[str, TpnsClient],
    *,
    now: datetime,
    utc_offset: str,
    state: StateSnapshot,
    calls: Sequence[TaskCall] = (),
) -> dict[str, LiveTask]:
    """Live tasks by push id: the plan's touched ones (for the stale check before any call),
    and those of task calls a dead run left open."""
    dates = plan_dates(plan)
    for call in calls:
        if call.app in clients:
            dates.setdefault(call.app, {}).setdefault(call.push_id, None)
    live: dict[str, LiveTask] = {}
    for app, wanted in sorted(dates.items()):
        found = await read_push_ids(
            clients[app], app, wanted, now=now, state=state, utc_offset=utc_offset
        )
        live.update(found)
    return live


async def run_apply(
    plan: Plan,
    *,
    store: StateStore,
    clients: Mapping[str, TpnsClient],
    run: ApplyRun,
) -> ApplyReport:
    """Take the plan's app locks, apply, release. Raises StalePlan / LockNotAcquired first."""

    async def reread(p: Plan) -> Mapping[str, LiveTask]:
        return await reread_touched(
            p,
            clients,
            now=run.now(),
            utc_offset=run.utc_offset,
            state=store.snapshot(),
            calls=store.open_calls(),
        )

    crash = crash_plan_from_environment()  # None outside the crash-matrix tests
    audit = AuditTrail(
        audit_appender(store.append_audit, crash),
        run_id=run.run_id,
        provenance=run.provenance,
        plan_digest=plan_digest(plan),
        now=run.now,
        secrets=run.secrets,
    )
    options = ApplyOptions(
        run_id=run.run_id,
        now=run.now,
        reread=reread,
        fingerprint=live_fingerprint,
        utc_offset=run.utc_offset,
        on_outcome=run.on_outcome,
        read_back_grace=run.read_back_grace,
    )
    # The apps of open intents and calls too: resolving one writes their state.
    left_open = {i.app for i in store.open_intents()} | {c.app for c in store.open_calls()}
    apps = sorted(set(plan_apps(plan)) | (left_open & set(clients)))
    applied: ApplyStore = store if crash is None else CrashingStore(store, crash)
    with store.acquire(apps, run.holder, timeout=run.lock_timeout) as lease:
        # Every stop, revoke, cancel and push first checks the lease (LockLost when taken).
        fenced = {app: FencedClient(c, lease.check, crash=crash) for app, c in clients.items()}
        return await apply_plan(plan, clients=fenced, store=applied, audit=audit, options=options)


def plan_digest(plan: Plan) -> str:
    return hashlib.sha256(plan.to_json(indent=None).encode()).hexdigest()
