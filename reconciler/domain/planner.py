"""The planner: desired PushTasks + live TPNS tasks + state -> the Plan that closes the gap.

A pure function (DESIGN.md section 4): no clock (`now` is given), no I/O, deterministic order.
Unreachable desired states become diagnostics, never actions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.domain import capabilities as caps
from reconciler.domain.body import (
    audience_of,
    canonical_json,
    content_digest,
    parse_utc_offset,
    send_time_of,
)
from reconciler.domain.body import tpns_body as build_body
from reconciler.domain.diff import diff
from reconciler.domain.manifest.models import (
    AppConfig,
    DeclaredTask,
    DesiredState,
    Platform,
    PushctlConfig,
)
from reconciler.domain.plan import (
    Action,
    ApiCall,
    ApiUsage,
    Change,
    Diagnostic,
    Plan,
    order_changes,
    select_targets,
    summarize,
)
from reconciler.records import LiveStatus, LiveTask, StateSnapshot, TaskBinding

PUSH_PATH = "/v3/push/app"
STOP_PATH = "/v3/push/stop_push_msg"
RECALL_PATH = "/v3/push/revoke_push_msg"
CANCEL_PATH = "/v3/push/cancel_timing_task"

#: TPNS accepts send_time at most 90 days ahead and at most 10 minutes past (reference 4.8).
MAX_SCHEDULE_AHEAD = timedelta(days=90)
MAX_SEND_TIME_PAST = timedelta(minutes=10)

#: Statuses in which an overridden task needs nothing more, whatever became of its overrider.
_NEVER_DELIVERED = frozenset({LiveStatus.CANCELED, LiveStatus.FAILED, LiveStatus.DELETED})

RECALL_WARNING = (
    "recall wakes apps: TPNS delivers it as a silent message that starts the app on each device"
)


@dataclass(frozen=True)
class PlanOptions:
    config: PushctlConfig
    tool_version: str
    #: Plan only these addresses (and what they depend on); empty means every task.
    targets: frozenset[str] = frozenset()
    api_usage: ApiUsage = field(default_factory=ApiUsage)
    input_digest: str = ""


@dataclass(frozen=True)
class _World:
    desired: dict[str, DeclaredTask]
    live: Mapping[str, LiveTask]
    state: StateSnapshot
    now: datetime
    options: PlanOptions
    #: What pushctl last knew of each declared task: the live record, else the recorded one.
    observed: dict[str, LiveTask | None]

    @property
    def utc_offset(self) -> str:
        return self.options.config.tpns_utc_offset


@dataclass
class _Findings:
    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    no_ops: set[str] = field(default_factory=set)

    def problem(
        self, declared: DeclaredTask, code: str, message: str, *, error: bool = True
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                severity="error" if error else "warning",
                code=code,
                address=declared.address,
                file=declared.file,
                line=declared.line,
                column=declared.column,
                message=message,
            )
        )

    def refused(self, declared: DeclaredTask, refusals: Sequence[caps.Refusal | None]) -> bool:
        """Record the first refusal as an error; True when there was one."""
        for refusal in refusals:
            if refusal is not None:
                self.problem(declared, refusal.code, f"{declared.address}: {refusal.message}")
                return True
        return False


@dataclass(frozen=True)
class _Task:
    """One declared task with everything known about it."""

    declared: DeclaredTask
    app: AppConfig
    live: LiveTask | None
    binding: TaskBinding | None

    @property
    def address(self) -> str:
        return self.declared.address

    @property
    def audience_type(self) -> str:
        return caps.audience_type_of(self.declared.task.spec.push, self.live)


def plan(
    desired: Sequence[DeclaredTask],
    live: Mapping[str, LiveTask],
    state: StateSnapshot,
    now: datetime,
    options: PlanOptions,
) -> Plan:
    """The changes that bring `live` to `desired`, with diagnostics for what cannot be done."""
    world = _world(desired, live, state, now, options)
    findings = _Findings()
    cycles = _override_cycles(world, findings)
    absorbed = _absorbed_overriders(world, cycles)
    for address in sorted(world.desired):
        if address not in cycles and address not in absorbed:
            _plan_task(world, world.desired[address], absorbed, findings)
    _plan_forgets(world, findings)
    _warn_open_intents(world, findings)
    changes = order_changes(_link_dependencies(findings.changes))
    return _assemble(world, findings, select_targets(changes, options.targets))


def _world(
    desired: Sequence[DeclaredTask],
    live: Mapping[str, LiveTask],
    state: StateSnapshot,
    now: datetime,
    options: PlanOptions,
) -> _World:
    by_address = {declared.address: declared for declared in desired}
    observed = {
        address: live.get(address) or _recorded(declared, state.bindings.get(address))
        for address, declared in by_address.items()
    }
    return _World(by_address, live, state, now, options, observed)


def _recorded(declared: DeclaredTask, binding: TaskBinding | None) -> LiveTask | None:
    """The state store's last view of a task that refresh did not re-read (settled ones)."""
    pinned = declared.task.spec.push_id
    if binding is None or binding.last_status is None or binding.date is None:
        return None
    if pinned is not None and binding.push_id != pinned:
        return None
    body = binding.body or declared.task.spec.push or {}
    audience = str(body.get("audience_type", ""))
    message = body.get("message") or {}
    return LiveTask(
        push_id=binding.push_id,
        status=binding.last_status,
        date=binding.date,
        push_type=caps.REPORTED_PUSH_TYPE.get(audience, audience),
        message_type=str(body.get("message_type", "")),
        title=str(message.get("title", "")),
        content=str(message.get("content", "")),
        collapse_id=binding.collapse_id,
    )


# --- Overrides: which tasks go out inside another task's override, and cycles.


def _overrider_address(declared: DeclaredTask) -> str | None:
    name = declared.task.spec.overridden_by
    if declared.task.spec.state is not DesiredState.OVERRIDDEN or name is None:
        return None
    return f"{declared.task.metadata.app}/{name}"


def _override_cycles(world: _World, findings: _Findings) -> set[str]:
    """Addresses on an overriddenBy loop; each gets an error and is not planned."""
    on_cycle: set[str] = set()
    for start in sorted(world.desired):
        path: list[str] = []
        current: str | None = start
        while current is not None and current in world.desired and current not in path:
            path.append(current)
            current = _overrider_address(world.desired[current])
        if current == start:
            on_cycle.update(path)
    for address in sorted(on_cycle):
        loop = " -> ".join(_cycle_from(world, address))
        findings.problem(
            world.desired[address],
            "override.cycle",
            f"overriddenBy forms a loop ({loop}); a task cannot be overridden by itself or by a "
            "task that it overrides — make the newest task `state: active`",
        )
    return on_cycle


def _cycle_from(world: _World, start: str) -> list[str]:
    path = [start]
    current = _overrider_address(world.desired[start])
    while current is not None and current != start:
        path.append(current)
        current = _overrider_address(world.desired[current])
    return [*path, start]


def _absorbed_overriders(world: _World, cycles: set[str]) -> dict[str, str]:
    """Overrider address -> the overridden address whose override or replace sends its push.

    Such a task gets no create of its own: its first push is the one that replaces the old task.
    """
    absorbed: dict[str, str] = {}
    for address in sorted(world.desired):
        target = _overrider_address(world.desired[address])
        if address in cycles or target is None or target in absorbed:
            continue
        if _needs_override(world, address) and _can_absorb(world, target):
            absorbed[target] = address
    return absorbed


def _needs_override(world: _World, address: str) -> bool:
    declared = world.desired[address]
    exists = declared.task.spec.push_id is not None or address in world.state.bindings
    observed = world.observed[address]
    return exists and (observed is None or not observed.settled)


def _can_absorb(world: _World, target: str) -> bool:
    overrider = world.desired.get(target)
    if overrider is None or target in world.state.bindings:
        return False
    spec = overrider.task.spec
    return spec.state is DesiredState.ACTIVE and spec.push is not None and spec.push_id is None


# --- One declared task.


def _plan_task(
    world: _World, declared: DeclaredTask, absorbed: dict[str, str], findings: _Findings
) -> None:
    app = world.options.config.apps.get(declared.task.metadata.app)
    if app is None:
        findings.problem(
            declared,
            "app.unknown",
            f"app {declared.task.metadata.app!r} is not in pushctl.yaml; add it under `apps:`",
        )
        return
    address = declared.address
    task = _Task(declared, app, world.observed[address], world.state.bindings.get(address))
    spec = declared.task.spec
    if spec.push_id is not None and not _adopt(world, task, findings):
        return
    if spec.push_id is None and task.binding is None:
        _plan_unsent(world, task, findings)
        return
    if task.live is None:
        findings.problem(
            declared,
            "live.missing",
            f"no live record was read for {address}; TPNS keeps tasks one month — "
            "run `pushctl plan --refresh=all`, or remove the manifest",
            error=False,
        )
        return
    _STATE_HANDLERS[spec.state](world, task, absorbed, findings)


def _adopt(world: _World, task: _Task, findings: _Findings) -> bool:
    """Plan the adopt of a `pushId` not yet in state; False when there is no such live task."""
    push_id = task.declared.task.spec.push_id
    if task.binding is not None and task.binding.push_id == push_id:
        return True
    live = world.live.get(task.address)
    if live is None or live.push_id != push_id:
        findings.problem(
            task.declared,
            "adopt.not-found",
            f"pushId {push_id} of {task.address} was not found at TPNS for app "
            f"{task.app.access_id}; TPNS keeps tasks one month — check the id or remove `pushId`",
        )
        return False
    findings.changes.append(
        _change(
            task,
            Action.ADOPT,
            reason=f"pushId {push_id} exists at TPNS and is not yet in state; record it",
            after=_live_view(live),
            reversible=True,
            from_nothing=True,
        )
    )
    return True


def _plan_unsent(world: _World, task: _Task, findings: _Findings) -> None:
    if task.declared.task.spec.state is DesiredState.ACTIVE:
        _create(world, task, findings)
    else:
        # Never sent: nothing to stop, cancel, recall or override.
        findings.no_ops.add(task.address)


def _create(world: _World, task: _Task, findings: _Findings) -> None:
    if _send_time_refused(world, task.declared, findings):
        return
    body = build_body(task.declared, utc_offset=world.utc_offset)
    findings.changes.append(
        _change(
            task,
            Action.CREATE,
            reason=f"{task.address} is declared and has not been sent yet",
            api_calls=(ApiCall(path=PUSH_PATH, body=body),),
            after=_new_push_view(world, task.declared, body),
            new_address=task.address,
            audience=audience_of(body),
        )
    )


def _plan_active(world: _World, task: _Task, _: dict[str, str], findings: _Findings) -> None:
    live = _live(task)
    if live.settled:
        findings.problem(
            task.declared,
            "reactivate.settled",
            f"{task.address} is {live.status.value} at TPNS and can never deliver again; "
            "declare the push as a new task (a new name), and set this one's `state:` to match",
        )
        return
    drift = _content_drift(world, task)
    if drift is None:
        findings.no_ops.add(task.address)
    elif caps.is_scheduled(live, world.now):
        _replace(world, task, task.declared, findings, reason=drift)
    else:
        code = "drift.delivered" if task.declared.task.spec.push_id else "content.delivered"
        findings.problem(
            task.declared,
            code,
            f"{drift}, but {task.address} was already delivered ({live.status.value}); "
            "a sent message cannot be edited — declare an override instead "
            "(`state: overridden` with `overriddenBy:` a new task)",
        )


def _content_drift(world: _World, task: _Task) -> str | None:
    """Why the live content differs from the declared push, or None when it does not."""
    push = task.declared.task.spec.push
    if push is None:
        return None
    if task.declared.task.spec.push_id is not None:
        live = _live(task)
        message = push.get("message") or {}
        if (message.get("title", ""), message.get("content", "")) != (live.title, live.content):
            return "the live title/content differ from `push`"
        return None
    recorded = _recorded_digest(task.binding)
    if recorded is None:
        return None
    declared = content_digest(build_body(task.declared, utc_offset=world.utc_offset))
    return None if declared == recorded else "the declared push changed since it was sent"


def _recorded_digest(binding: TaskBinding | None) -> str | None:
    if binding is None:
        return None
    if binding.content_digest:
        return binding.content_digest
    return content_digest(binding.body) if binding.body else None


def _plan_stopped(world: _World, task: _Task, _: dict[str, str], findings: _Findings) -> None:
    live = _live(task)
    if live.settled:
        findings.no_ops.add(task.address)
    elif caps.is_scheduled(live, world.now):
        _cancel(world, task, findings, reason="declared stopped; it has not started, so cancel it")
    elif not caps.offline_window_open(live, world.now):
        # Finished and past its offline window: nothing is left to stop.
        findings.no_ops.add(task.address)
    elif not findings.refused(task.declared, [caps.stop_refusal(task.app, task.audience_type)]):
        findings.changes.append(
            _status_change(
                task,
                Action.STOP,
                STOP_PATH,
                LiveStatus.DELETED_PUSH_MSG,
                reason=f"declared stopped; live {live.status.value} may still deliver offline",
            )
        )


def _plan_cancelled(world: _World, task: _Task, _: dict[str, str], findings: _Findings) -> None:
    live = _live(task)
    if live.status in _NEVER_DELIVERED:
        findings.no_ops.add(task.address)
    elif caps.is_scheduled(live, world.now):
        _cancel(world, task, findings, reason="declared cancelled and not yet started")
    else:
        started = live.date.astimezone(_zone(world)).strftime("%Y-%m-%d %H:%M")
        findings.problem(
            task.declared,
            "cancel.started",
            f"task {task.address} started at {started} ({live.status.value}); it can no longer "
            "be cancelled — declare `state: stopped` or an override",
        )


def _plan_recalled(world: _World, task: _Task, _: dict[str, str], findings: _Findings) -> None:
    live = _live(task)
    if live.status in _NEVER_DELIVERED or live.status is LiveStatus.REVOKED:
        findings.no_ops.add(task.address)
    elif live.status is LiveStatus.COLLAPSED:
        findings.problem(
            task.declared,
            "recall.collapsed",
            f"{task.address} was overridden (PUSH_COLLAPSED); its message is no longer shown — "
            "recall the task that overrode it instead",
        )
    elif caps.is_scheduled(live, world.now):
        _cancel(world, task, findings, reason="declared recalled and not yet sent; cancel it")
    elif not findings.refused(task.declared, [caps.recall_refusal(task.app, task.audience_type)]):
        findings.changes.append(
            _status_change(
                task,
                Action.RECALL,
                RECALL_PATH,
                LiveStatus.REVOKED,
                reason="declared recalled; remove its delivered notifications",
                warnings=(RECALL_WARNING,),
            )
        )


def _cancel(world: _World, task: _Task, findings: _Findings, *, reason: str) -> None:
    if findings.refused(task.declared, [caps.cancel_refusal(task.audience_type)]):
        return
    findings.changes.append(
        _status_change(
            task, Action.CANCEL, CANCEL_PATH, LiveStatus.CANCELED, reason=reason, deadline=True
        )
    )


# --- Overridden tasks.


def _plan_overridden(
    world: _World, task: _Task, absorbed: dict[str, str], findings: _Findings
) -> None:
    live = _live(task)
    target = _overrider_address(task.declared) or ""
    overrider = world.desired.get(target)
    if overrider is None:
        findings.problem(
            task.declared,
            "override.target-missing",
            f"overriddenBy names {target}, which no manifest declares; declare it (same app) "
            "with the new `push`",
        )
    elif live.settled:
        _settled_overridden(task, target in world.state.bindings, findings)
    elif absorbed.get(target) != task.address:
        _override_blocked(world, task, overrider, absorbed, findings)
    elif caps.is_scheduled(live, world.now):
        _replace(
            world, task, overrider, findings, reason=f"overridden by {target} before it started"
        )
    else:
        _override(world, task, overrider, findings)


def _settled_overridden(task: _Task, overrider_bound: bool, findings: _Findings) -> None:
    status = _live(task).status
    findings.no_ops.add(task.address)
    if overrider_bound or status in _NEVER_DELIVERED or status is LiveStatus.REVOKED:
        return
    findings.problem(
        task.declared,
        "override.settled",
        f"{task.address} is already {status.value} and can no longer be overridden; its "
        "overrider goes out as a plain push — set this task's `state:` to match what happened",
        error=False,
    )


def _override_blocked(
    world: _World,
    task: _Task,
    overrider: DeclaredTask,
    absorbed: dict[str, str],
    findings: _Findings,
) -> None:
    target = overrider.address
    spec = overrider.task.spec
    if target in world.state.bindings or spec.push_id is not None:
        why = (
            "was already sent as its own push; an override must be a new push — declare a new task"
        )
        code = "override.target-sent"
    elif spec.state is not DesiredState.ACTIVE:
        why = f"is declared {spec.state.value}; the overriding task must be `state: active`"
        code = "override.target-inactive"
    else:
        why = f"already overrides {absorbed[target]}; one push can override only one task"
        code = "override.target-shared"
    findings.problem(task.declared, code, f"{task.address} is overridden by {target}, which {why}")


def _override(world: _World, task: _Task, overrider: DeclaredTask, findings: _Findings) -> None:
    live = _live(task)
    refusals = [
        caps.override_refusal(task.audience_type),
        caps.override_refusal(caps.audience_type_of(overrider.task.spec.push, None)),
    ]
    if findings.refused(task.declared, refusals) or _send_time_refused(world, overrider, findings):
        return
    if not live.collapse_id:
        findings.problem(
            task.declared,
            "override.no-collapse-id",
            f"TPNS reports no collapse id for {task.address} (push id {live.push_id}); it cannot "
            "be overridden — declare `state: stopped` instead",
        )
        return
    force = overrider.task.spec.force_collapse
    body = build_body(
        overrider, utc_offset=world.utc_offset, collapse_id=live.collapse_id, force_collapse=force
    )
    findings.changes.append(
        _change(
            task,
            Action.OVERRIDE,
            reason=f"overridden by {overrider.address}; it already started ({live.status.value})",
            api_calls=(ApiCall(path=PUSH_PATH, body=body),),
            after=_new_push_view(world, overrider, body),
            new_address=overrider.address,
            audience=audience_of(body),
            warnings=_override_warnings(task.app, force),
        )
    )


def _override_warnings(app: AppConfig, force_collapse: bool) -> tuple[str, ...]:
    if app.platform is not Platform.ANDROID:
        return ()
    if force_collapse:
        outcome = "get the new message as well and show both (forceCollapse: true)"
    else:
        outcome = "keep the old message and never get the new one (forceCollapse: false)"
    return (f"OPPO, vivo and Huawei (EMUI < 10) devices cannot override: they {outcome}",)


def _replace(
    world: _World, task: _Task, source: DeclaredTask, findings: _Findings, *, reason: str
) -> None:
    """Cancel a scheduled task and send `source`'s push, bound to `source`'s address."""
    live = _live(task)
    refusals = [caps.cancel_refusal(task.audience_type)]
    if source.address != task.address:
        refusals.insert(0, caps.override_refusal(task.audience_type))
        refusals.append(caps.override_refusal(caps.audience_type_of(source.task.spec.push, None)))
    if findings.refused(task.declared, refusals) or _send_time_refused(world, source, findings):
        return
    body = build_body(source, utc_offset=world.utc_offset)
    findings.changes.append(
        _change(
            task,
            Action.REPLACE,
            reason=f"{reason}; cancel it and send the new push",
            api_calls=(
                ApiCall(path=CANCEL_PATH, body={"pushId": live.push_id}),
                ApiCall(path=PUSH_PATH, body=body),
            ),
            after=_new_push_view(world, source, body),
            new_address=source.address,
            audience=audience_of(body),
            deadline=live.date,
        )
    )


def _send_time_refused(world: _World, declared: DeclaredTask, findings: _Findings) -> bool:
    moment = send_time_of(declared, utc_offset=world.utc_offset)
    if moment is None:
        return False
    audience = caps.audience_type_of(declared.task.spec.push, None)
    problems = [
        ("send-time.audience", caps.can_schedule(audience)),
        ("send-time.too-far", _too_far(moment, world.now)),
        ("send-time.past", _too_past(moment, world.now)),
    ]
    return findings.refused(declared, [caps.Refusal(c, m) for c, m in problems if m is not None])


def _too_far(moment: datetime, now: datetime) -> str | None:
    if moment <= now + MAX_SCHEDULE_AHEAD:
        return None
    return f"send_time {moment.isoformat()} is more than 90 days ahead; TPNS refuses it — move it"


def _too_past(moment: datetime, now: datetime) -> str | None:
    if moment >= now - MAX_SEND_TIME_PAST:
        return None
    return (
        f"send_time {moment.isoformat()} is more than 10 minutes in the past; TPNS refuses it "
        "— set a future time, or remove send_time to send now"
    )


_STATE_HANDLERS = {
    DesiredState.ACTIVE: _plan_active,
    DesiredState.STOPPED: _plan_stopped,
    DesiredState.CANCELLED: _plan_cancelled,
    DesiredState.RECALLED: _plan_recalled,
    DesiredState.OVERRIDDEN: _plan_overridden,
}


# --- Changes and their before/after views.


def _live(task: _Task) -> LiveTask:
    if task.live is None:  # _plan_task only dispatches tasks with a live view
        raise ValueError(f"{task.address} has no live view")
    return task.live


def _zone(world: _World) -> timezone:
    return parse_utc_offset(world.utc_offset)


def _live_view(live: LiveTask | None, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
    if live is None:
        return None
    view: dict[str, Any] = {
        "status": live.status.value,
        "title": live.title,
        "content": live.content,
        "date": live.date.isoformat(),
        "push_id": live.push_id,
        "collapse_id": live.collapse_id,
    }
    if body:
        view["push"] = body
    return view


def _new_push_view(world: _World, declared: DeclaredTask, body: dict[str, Any]) -> dict[str, Any]:
    """The push a create/override/replace sends, as the live view it should lead to."""
    moment = send_time_of(declared, utc_offset=world.utc_offset)
    scheduled = moment is not None and moment > world.now
    message = body.get("message") or {}
    return {
        "status": (LiveStatus.WAIT if scheduled else LiveStatus.INIT).value,
        "title": message.get("title", ""),
        "content": message.get("content", ""),
        "date": moment.isoformat() if moment is not None else None,
        "push_id": None,
        "collapse_id": body.get("collapse_id", 0),
        "push": body,
    }


def _change(
    task: _Task,
    action: Action,
    *,
    reason: str,
    after: dict[str, Any] | None,
    from_nothing: bool = False,
    api_calls: tuple[ApiCall, ...] = (),
    new_address: str | None = None,
    audience: str = "",
    deadline: datetime | None = None,
    warnings: tuple[str, ...] = (),
    reversible: bool = False,
) -> Change:
    """One change; `before` is the task's live view (with the body pushctl sent), if any."""
    sent_body = task.binding.body if task.binding is not None else None
    old = None if from_nothing else _live_view(task.live, sent_body)
    live = task.live
    return Change(
        address=task.address,
        app=task.declared.task.metadata.app,
        action=action,
        push_id=live.push_id if live is not None else None,
        new_address=new_address,
        api_calls=api_calls,
        reason=reason,
        before=old,
        after=after,
        diff=diff(old, after),
        reversible=reversible,
        audience=audience or _live_audience(task),
        deadline=deadline,
        warnings=warnings,
    )


def _status_change(
    task: _Task,
    action: Action,
    path: str,
    outcome: LiveStatus,
    *,
    reason: str,
    deadline: bool = False,
    warnings: tuple[str, ...] = (),
) -> Change:
    """A stop, recall or cancel: one call on the push id, the status moves to `outcome`."""
    live = _live(task)
    sent_body = task.binding.body if task.binding is not None else None
    after = {**(_live_view(live, sent_body) or {}), "status": outcome.value}
    return _change(
        task,
        action,
        reason=reason,
        after=after,
        api_calls=(ApiCall(path=path, body={"pushId": live.push_id}),),
        deadline=live.date if deadline else None,
        warnings=warnings,
    )


def _live_audience(task: _Task) -> str:
    push = task.declared.task.spec.push
    if push:
        return audience_of(push)
    live = task.live
    return f"{live.push_type} (as TPNS reports it)" if live is not None else ""


# --- Forget, open intents, dependencies, order, targets and the Plan itself.


def _plan_forgets(world: _World, findings: _Findings) -> None:
    for address in sorted(set(world.state.bindings) - set(world.desired)):
        binding = world.state.bindings[address]
        before = {
            "status": binding.last_status.value if binding.last_status else None,
            "date": binding.date.isoformat() if binding.date else None,
            "push_id": binding.push_id,
            "collapse_id": binding.collapse_id,
        }
        findings.changes.append(
            Change(
                address=address,
                app=binding.app,
                action=Action.FORGET,
                push_id=binding.push_id,
                reason=(
                    f"no manifest declares {address}; forget it and leave the live task as it "
                    "is (pushctl never stops a task because its manifest was deleted)"
                ),
                before=before,
                after=None,
                diff=diff(before, None),
                reversible=True,
            )
        )


def _warn_open_intents(world: _World, findings: _Findings) -> None:
    for intent in sorted(world.state.open_intents, key=lambda i: (i.address, i.intent_id)):
        declared = world.desired.get(intent.address)
        findings.diagnostics.append(
            Diagnostic(
                severity="warning",
                code="intent.open",
                address=intent.address,
                file=declared.file if declared else "",
                line=declared.line if declared else 0,
                column=declared.column if declared else 0,
                message=(
                    f"run {intent.run_id} sent a {intent.action} for {intent.address} and recorded "
                    "no outcome; apply reads the live tasks back and resolves it before any call"
                ),
            )
        )


def _link_dependencies(changes: list[Change]) -> list[Change]:
    """An adopt waits for the forget of the address its push id was bound to (a rename)."""
    forgotten = {c.push_id: c.address for c in changes if c.action is Action.FORGET}
    return [_after_forget(change, forgotten.get(change.push_id)) for change in changes]


def _after_forget(change: Change, forgotten_address: str | None) -> Change:
    if change.action is not Action.ADOPT or forgotten_address in {None, change.address}:
        return change
    return change.model_copy(update={"depends_on": (forgotten_address,)})


def _assemble(world: _World, findings: _Findings, changes: list[Change]) -> Plan:
    targets = world.options.targets
    scope = (
        set(targets)
        | {c.address for c in changes}
        | {c.new_address for c in changes if c.new_address}
    )
    diagnostics = [d for d in findings.diagnostics if not targets or d.address in scope]
    no_ops = [a for a in findings.no_ops if not targets or a in targets]
    deadlines = [c.deadline for c in changes if c.deadline is not None]
    return Plan(
        tool_version=world.options.tool_version,
        created_at=world.now,
        not_after=min(deadlines) if deadlines else None,
        applyable=not any(d.severity == "error" for d in diagnostics),
        summary=summarize(changes, no_ops=len(no_ops)),
        changes=tuple(changes),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.address, d.code, d.message))),
        api_usage=world.options.api_usage,
        input_digest=world.options.input_digest,
        state_lineage=world.state.lineage,
        state_serial=world.state.serial,
        live_fingerprints={
            live.push_id: live_fingerprint(live)
            for live in sorted(world.live.values(), key=lambda t: t.push_id)
        },
    )


def live_fingerprint(live: LiveTask) -> str:
    """SHA-256 of what apply re-reads to tell that a task changed since planning."""
    record = [live.status.value, live.date.isoformat(), live.collapse_id]
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()
