"""The apply executor: make exactly the calls a saved plan holds, once, with a record.

Order of work (docs/design.md): refuse a plan that is stale before any call; take the
per-app locks; resolve intents left open by an interrupted run by reading live tasks back;
settle the stops, recalls and cancels it left open from their tasks' live status; then run the
changes in dependency order, concurrently where independent. Every `/v3/push/app` is preceded
by a committed intent and followed by its outcome, so a crash or an ambiguous failure never
leads to a second send; every stop, recall and cancel likewise by a record and its outcome
(engine/task_calls.py), so none that may have left goes without an outcome record.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler import __version__
from reconciler.domain.body import content_digest
from reconciler.domain.plan import MUTATING_ACTIONS, Action, Change, Plan
from reconciler.engine.audit_trail import AuditTrail
from reconciler.engine.intents import IntentResolver
from reconciler.engine.ports import ApplyClient, ApplyStore
from reconciler.engine.task_calls import CallResolver, TaskCallSender, record_status
from reconciler.errors import (
    ApiError,
    OutcomeUnknown,
    PushctlError,
    StalePlan,
    TransportError,
)
from reconciler.records import Intent, LiveStatus, LiveTask, TaskBinding
from reconciler.tpns.errors import RateLimited

log = logging.getLogger(__name__)

PUSH_PATH = "/v3/push/app"


@dataclass(frozen=True)
class ChangeOutcome:
    address: str
    action: Action
    ok: bool
    detail: str
    push_id: str | None = None


@dataclass
class ApplyReport:
    outcomes: list[ChangeOutcome] = field(default_factory=list)
    resolved_intents: list[str] = field(default_factory=list)
    #: A line per stop, recall or cancel an earlier run left open: settled, or still unknown.
    resolved_calls: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ChangeOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def succeeded(self) -> list[ChangeOutcome]:
        return [o for o in self.outcomes if o.ok]


@dataclass(frozen=True)
class ApplyOptions:
    run_id: str
    now: Callable[[], datetime]
    concurrency: int = 8
    #: Reads live status of the plan's touched tasks: push id -> LiveTask (absent = not found).
    reread: Callable[[Plan], Awaitable[Mapping[str, LiveTask]]] | None = None
    fingerprint: Callable[[LiveTask], str] | None = None
    utc_offset: str = "+08:00"
    on_outcome: Callable[[ChangeOutcome], None] | None = None
    #: Per app, readBackGraceSeconds: how long a lost create may take to show up live.
    read_back_grace: Mapping[str, float] = field(default_factory=dict)


def body_digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def major(version: str) -> str:
    return version.split(".", 1)[0]


def sends_push(change: Change) -> bool:
    return any(call.path == PUSH_PATH for call in change.api_calls)


def check_plan_current(
    plan: Plan,
    *,
    lineage: str,
    serial: int,
    now: datetime,
    app_serials: Mapping[str, int] | None = None,
) -> None:
    """Refuse a plan made for another world, before any call (exit 4).

    Only the serials of the apps the plan changes count, so an apply to another app (a
    parallel CI job) leaves the plan current; a plan file without `state_serials` (written
    before they existed) is held to the global serial.
    """
    if major(plan.format_version) != "1":
        raise StalePlan(
            f"plan file format {plan.format_version} is not readable by pushctl {__version__}",
            hint="run plan again with this pushctl",
        )
    if major(plan.tool_version) != major(__version__):
        raise StalePlan(
            f"plan was made by pushctl {plan.tool_version}; this is {__version__}",
            hint="run plan again with this pushctl",
        )
    if plan.not_after is not None and now > plan.not_after:
        raise StalePlan(
            f"plan expired at {plan.not_after.isoformat()} (a deadline in it has passed)",
            hint="plan is stale; run plan again",
        )
    if plan.state_lineage and lineage and plan.state_lineage != lineage:
        raise StalePlan(
            "plan was made against another state (lineage differs)",
            hint="plan is stale; run plan again against this state",
        )
    if plan.state_serials:
        serials = app_serials or {}
        for app in sorted({c.app for c in plan.changes}):
            # An app absent from either side was never changed by an apply: serial 0.
            planned, current = plan.state_serials.get(app, 0), serials.get(app, 0)
            if planned != current:
                raise StalePlan(
                    f"state of app {app} moved since planning (serial {planned} -> {current})",
                    hint="plan is stale; run plan again",
                )
    elif plan.state_serial != serial:
        raise StalePlan(
            f"state moved since planning (serial {plan.state_serial} -> {serial})",
            hint="plan is stale; run plan again",
        )


def check_live_unchanged(
    plan: Plan, live: Mapping[str, LiveTask], fingerprint: Callable[[LiveTask], str]
) -> None:
    moved: list[str] = []
    for change in plan.changes:
        if change.action not in MUTATING_ACTIONS or change.push_id is None:
            continue
        expected = plan.live_fingerprints.get(change.push_id)
        task = live.get(change.push_id)
        if expected is None:
            continue
        if task is None or (
            fingerprint(task) != expected
            and not _only_delivered_on(change, task, expected, fingerprint)
        ):
            status = task.status.value if task else "not found"
            moved.append(f"{change.address} (push {change.push_id}, now {status})")
    if moved:
        raise StalePlan(
            "live tasks changed since planning: " + ", ".join(moved),
            hint="plan is stale; run plan again",
        )


#: Delivery moves on by itself: a stop, recall or override planned on a task that was
#: delivering stays right when the task has since finished.
DELIVERY_ORDER = (LiveStatus.INIT, LiveStatus.STARTED, LiveStatus.FINISHED)
DELIVERY_TOLERANT = frozenset({Action.STOP, Action.RECALL, Action.OVERRIDE})


def _only_delivered_on(
    change: Change, task: LiveTask, expected: str, fingerprint: Callable[[LiveTask], str]
) -> bool:
    """The task changed only by delivering further, which leaves the planned call valid."""
    planned = (change.before or {}).get("status")
    if change.action not in DELIVERY_TOLERANT or task.status not in DELIVERY_ORDER:
        return False
    if planned not in {s.value for s in DELIVERY_ORDER}:
        return False
    was = LiveStatus(planned)
    if DELIVERY_ORDER.index(task.status) < DELIVERY_ORDER.index(was):
        return False
    return fingerprint(task.model_copy(update={"status": was})) == expected


class Executor:
    """Runs one plan's changes against TPNS and records each step."""

    def __init__(
        self,
        plan: Plan,
        *,
        clients: Mapping[str, ApplyClient],
        store: ApplyStore,
        audit: AuditTrail,
        options: ApplyOptions,
    ) -> None:
        self.plan = plan
        self.clients = clients
        self.store = store
        self.audit = audit
        self.options = options
        self.report = ApplyReport()
        self._done: dict[str, list[asyncio.Event]] = {}
        self._failed: set[str] = set()

    async def run(self, live: Mapping[str, LiveTask] | None = None) -> ApplyReport:
        """Apply the changes; `live` (push id -> task) settles calls a dead run left open."""
        changes = [c for c in self.plan.changes if c.action is not Action.NO_OP]
        resolver = IntentResolver(
            self.clients,
            self.store,
            self.audit,
            now=self.options.now,
            utc_offset=self.options.utc_offset,
            grace=self.options.read_back_grace,
        )
        # Intents of every app at hand, even with nothing planned for it: a plan made while
        # an intent was open counted on its task, and the next plan must see it bound.
        intent_apps = {i.app for i in self.store.open_intents() if i.app in self.clients}
        apps = sorted({c.app for c in changes} | intent_apps)
        self.report.resolved_intents.extend(await resolver.resolve_open(apps))
        calls = CallResolver(self.store, self.audit, live or {})
        call_apps = {c.app for c in self.store.open_calls() if c.app in self.clients}
        self.report.resolved_calls.extend(calls.resolve_open(sorted(call_apps)))
        self._done = {c.address: [] for c in changes}
        events = [asyncio.Event() for _ in changes]
        for change, event in zip(changes, events, strict=True):
            self._done[change.address].append(event)
        # Two lanes: pushes wait for their 1/s turn without taking the slots stops run in.
        pushes = asyncio.Semaphore(max(1, self.options.concurrency))
        others = asyncio.Semaphore(max(1, self.options.concurrency))
        await asyncio.gather(
            *(
                self._run_one(c, e, pushes if sends_push(c) else others, resolver)
                for c, e in zip(changes, events, strict=True)
            )
        )
        # Settling an interrupted create or call moves state even if nothing else did.
        app_of = {c.address: c.app for c in changes}
        moved = {app_of[o.address] for o in self.report.outcomes if o.ok}
        moved |= resolver.resolved_apps | calls.resolved_apps
        if moved:
            self.store.bump_serial(sorted(moved))
        return self.report

    async def _run_one(
        self,
        change: Change,
        done: asyncio.Event,
        limit: asyncio.Semaphore,
        resolver: IntentResolver,
    ) -> None:
        try:
            # Dependencies first; changes of the same address (adopt, then its cancel) in order.
            for dep in (*change.depends_on, change.address):
                for event in self._done.get(dep, []):
                    if event is done:
                        break
                    await event.wait()
            blocked = [d for d in change.depends_on if d in self._failed]
            if blocked:
                self._finish(change, ok=False, detail=f"skipped: {', '.join(blocked)} failed")
                return
            pending = resolver.unresolved.get(change.new_address or change.address)
            if pending is not None:
                self._finish(change, ok=False, detail=f"skipped: {pending}")
                return
            async with limit:
                await self._execute(change, resolver)
        except PushctlError as exc:
            self._finish(change, ok=False, detail=str(exc), push_id=change.push_id)
        finally:
            done.set()

    def _finish(self, change: Change, *, ok: bool, detail: str, push_id: str | None = None) -> None:
        if not ok:
            self._failed.add(change.address)
        outcome = ChangeOutcome(
            address=change.address, action=change.action, ok=ok, detail=detail, push_id=push_id
        )
        self.report.outcomes.append(outcome)
        if self.options.on_outcome is not None:
            self.options.on_outcome(outcome)

    async def _execute(self, change: Change, resolver: IntentResolver) -> None:
        if change.action is Action.ADOPT:
            self._adopt(change)
        elif change.action is Action.FORGET:
            # The tombstone lets a restored manifest adopt the push again instead of resending.
            self.store.forget_binding(change.address)
            self.audit.state_change(change, detail="forgotten: no longer in the manifests")
            self._finish(change, ok=True, detail="forgotten", push_id=change.push_id)
        else:
            await self._call_sequence(change, resolver)

    def _adopt(self, change: Change) -> None:
        push_id = str(change.push_id)
        if self.store.restore_binding(change.address, push_id) is not None:
            self.audit.state_change(change, detail="adopted again: bound before it was forgotten")
            self._finish(change, ok=True, detail="adopted again", push_id=push_id)
            return
        # An adopt comes from nothing: the live task it records is the change's `after`; one
        # the duplicate guard recognised by content also carries the body it matched.
        seen = change.after or change.before or {}
        status = seen.get("status")
        date_text = seen.get("date")
        body = seen.get("push") if isinstance(seen.get("push"), dict) else {}
        binding = TaskBinding(
            address=change.address,
            app=change.app,
            push_id=push_id,
            created_by_pushctl=bool(body),
            last_status=LiveStatus(status) if status else None,
            date=datetime.fromisoformat(date_text) if isinstance(date_text, str) else None,
            collapse_id=int(seen.get("collapse_id") or 0),
            content_digest=content_digest(body) if body else "",
            body=body,
        )
        self.store.put_binding(binding)
        self.audit.state_change(change, detail="adopted")
        self._finish(change, ok=True, detail="adopted", push_id=push_id)

    async def _call_sequence(self, change: Change, resolver: IntentResolver) -> None:
        new_push_id: str | None = None
        details: list[str] = []
        for call in change.api_calls:
            if call.path == PUSH_PATH:
                new_push_id, detail = await self._send_push(change, call.body, resolver)
            else:
                detail = await self._task_call(change, call.path)
                if change.action is Action.REPLACE:
                    self._release_replaced(change)
            details.append(detail)
        self._finish(
            change, ok=True, detail="; ".join(details), push_id=new_push_id or change.push_id
        )

    def _release_replaced(self, change: Change) -> None:
        """After a replace's cancel, stop binding the address to the cancelled push.

        Otherwise a push that then fails (or a crash right here) leaves the address bound to a
        PUSH_CANCELED task, which the next plan can only refuse ("can never deliver again")
        instead of planning the create that is left.
        """
        if (change.new_address or change.address) != change.address:
            return
        binding = self.store.get_binding(change.address)
        if binding is not None and binding.push_id == change.push_id:
            self.store.remove_binding(change.address)
            self.audit.state_change(
                change, detail=f"push {change.push_id} cancelled; its replacement follows"
            )

    async def _task_call(self, change: Change, path: str) -> str:
        """stop / revoke / cancel, recorded before it leaves and closed with its outcome."""
        sender = TaskCallSender(
            self.clients[change.app],
            self.store,
            self.audit,
            run_id=self.options.run_id,
            now=self.options.now,
        )
        return await sender.send(change, path)

    def _record_status(self, change: Change, status: LiveStatus, live: LiveTask | None) -> None:
        record_status(self.store, change.address, str(change.push_id), status, live)

    async def _send_push(
        self, change: Change, body: dict[str, Any], resolver: IntentResolver
    ) -> tuple[str, str]:
        """One `/v3/push/app` call, exactly once across crashes and retries."""
        address = change.new_address or change.address
        existing = self.store.get_binding(address)
        if existing is not None and existing.push_id != change.push_id and existing.push_id:
            return existing.push_id, f"already created as push {existing.push_id}"
        now = self.options.now()
        intent = Intent(
            intent_id=f"{self.options.run_id}:{address}",
            run_id=self.options.run_id,
            address=address,
            change_address=change.address,
            app=change.app,
            action=change.action.value,
            body_digest=body_digest(body),
            body=body,
            created_at=now,
        )
        opened: list[Intent] = []

        def commit_intent() -> None:
            # Called by the client once the push's turn has come, right before it leaves.
            if opened:
                return
            self.store.open_intent(intent)
            opened.append(intent)
            self.audit.intent(change, path=PUSH_PATH, request=body)
            log.info("%s: intent %s recorded; POST %s", address, intent.intent_id, PUSH_PATH)

        try:
            result = await self.clients[change.app].push_app(body, on_send=commit_intent)
        except OutcomeUnknown as exc:
            # One outcome record per intent: this one, not the resolver's.
            unknown = self._held(intent, exc)
            found = await resolver.resolve(unknown, record=False)
            if found is None:
                message = f"{exc.message}; read back: not created"
                self.audit.outcome(change, path=PUSH_PATH, ret_code=-1, err_msg=message)
                exc.hint = "reading live tasks back found no such push; the next apply sends it"
                raise
            message = f"{exc.message}; read back: created"
            self.audit.outcome(change, path=PUSH_PATH, ret_code=0, err_msg=message, push_id=found)
            self._after_override(change)
            return found, f"created push {found} (confirmed by reading back)"
        except RateLimited as exc:
            if not opened:
                raise
            return await self._rate_limited(change, intent, exc, resolver)
        except ApiError as exc:
            if opened:
                self.store.close_intent(
                    intent.intent_id, push_id=None, outcome=f"rejected {exc.code}"
                )
                self.audit.outcome(change, path=PUSH_PATH, ret_code=exc.code, err_msg=exc.message)
            raise
        except TransportError as exc:
            if exc.maybe_delivered:  # the client turns these into OutcomeUnknown; be safe
                raise
            if opened:
                self.store.close_intent(intent.intent_id, push_id=None, outcome="not sent")
                self.audit.outcome(change, path=PUSH_PATH, ret_code=-1, err_msg=exc.message)
            raise
        resolver.bind(intent, result.push_id)
        self.audit.outcome(change, path=PUSH_PATH, ret_code=0, err_msg="", push_id=result.push_id)
        self._after_override(change)
        return result.push_id, f"created push {result.push_id}"

    async def _rate_limited(
        self, change: Change, intent: Intent, exc: RateLimited, resolver: IntentResolver
    ) -> tuple[str, str]:
        """1008028 "request too fast": the reference does not say TPNS made no task before
        answering it, so look before concluding, and never send again in this run."""
        found = await resolver.find_created(intent)
        if found is not None:
            resolver.bind(intent, found.push_id, date=found.date)
            message = f"{exc.message}; read back: created"
            self.audit.outcome(
                change, path=PUSH_PATH, ret_code=0, err_msg=message, push_id=found.push_id
            )
            self._after_override(change)
            return found.push_id, f"created push {found.push_id} (confirmed by reading back)"
        self.store.close_intent(intent.intent_id, push_id=None, outcome=f"rejected {exc.code}")
        self.audit.outcome(change, path=PUSH_PATH, ret_code=exc.code, err_msg=exc.message)
        exc.hint = (
            "TPNS refused the push as too fast and no such task is live; run apply again: "
            "the plan looks for it among the live tasks before sending"
        )
        raise exc

    def _held(self, intent: Intent, exc: OutcomeUnknown) -> Intent:
        """After a timeout TPNS may still create the task: hold off any "not created" for as
        long as the client waited (at least the app's readBackGraceSeconds) from now."""
        if exc.timed_out_after is None:
            return intent
        grace = self.options.read_back_grace.get(intent.app, 0.0)
        until = self.options.now() + timedelta(seconds=max(grace, exc.timed_out_after))
        return self.store.hold_intent(intent.intent_id, until=until)

    def _after_override(self, change: Change) -> None:
        if change.action is Action.OVERRIDE:
            self._record_status(change, LiveStatus.COLLAPSED, None)


async def apply_plan(
    plan: Plan,
    *,
    clients: Mapping[str, ApplyClient],
    store: ApplyStore,
    audit: AuditTrail,
    options: ApplyOptions,
) -> ApplyReport:
    """Apply a saved plan; the caller holds the locks of the plan's apps."""
    if not plan.applyable:
        raise PushctlError(
            "plan has errors and cannot be applied",
            hint="fix the diagnostics shown by `pushctl show PLANFILE`, then plan again",
        )
    snapshot = store.snapshot()
    check_plan_current(
        plan,
        lineage=snapshot.lineage,
        serial=snapshot.serial,
        now=options.now(),
        app_serials=snapshot.app_serials,
    )
    live: Mapping[str, LiveTask] = {}
    if options.reread is not None:
        # The plan's touched tasks, and the pushes of calls an interrupted run left open.
        live = await options.reread(plan)
        if options.fingerprint is not None:
            check_live_unchanged(plan, live, options.fingerprint)
    executor = Executor(plan, clients=clients, store=store, audit=audit, options=options)
    return await executor.run(live)
