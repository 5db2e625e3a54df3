"""The planner: desired PushTasks + live TPNS tasks + state -> the Plan that closes the gap.

A pure function (docs/design.md): no clock (`now` is given), no I/O, deterministic order.
Unreachable desired states become diagnostics, never actions. Override and replace live in
overrides.py; how changes and their views are built, in planning_context.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from reconciler.domain import capabilities as caps
from reconciler.domain.body import audience_of, canonical_json, content_digest, send_time_of
from reconciler.domain.body import tpns_body as build_body
from reconciler.domain.diff import diff
from reconciler.domain.duplicate_guard import GuardVerdict, guard
from reconciler.domain.manifest.models import DeclaredTask, DesiredState
from reconciler.domain.overrides import (
    absorbed_overriders,
    override_cycles,
    plan_overridden,
    replace,
)
from reconciler.domain.plan import (
    Action,
    ApiCall,
    Change,
    Diagnostic,
    Plan,
    order_changes,
    select_targets,
    summarize,
)
from reconciler.domain.planning_context import (
    CANCEL_PATH,
    NEVER_DELIVERED,
    PUSH_PATH,
    RECALL_PATH,
    RECALL_WARNING,
    STOP_PATH,
    Findings,
    PlanningWorld,
    PlanOptions,
    TaskView,
    build_change,
    live_of,
    live_view,
    new_push_view,
    send_time_refused,
    status_change,
    tpns_zone,
)
from reconciler.domain.task_calls import open_call_warnings
from reconciler.records import LiveStatus, LiveTask, StateSnapshot, TaskBinding

__all__ = ["PlanOptions", "live_fingerprint", "plan"]


def plan(
    desired: Sequence[DeclaredTask],
    live: Mapping[str, LiveTask],
    state: StateSnapshot,
    now: datetime,
    options: PlanOptions,
) -> Plan:
    """The changes that bring `live` to `desired`, with diagnostics for what cannot be done."""
    verdict = GuardVerdict()
    if options.guard is not None:
        verdict = guard(
            desired, state, live, options.guard, utc_offset=options.config.tpns_utc_offset
        )
    world = _world(desired, *_with_recognised(live, state, verdict), now, options)
    findings = Findings()
    _record_guard(world, verdict, findings)
    cycles = override_cycles(world, findings)
    absorbed = absorbed_overriders(world, cycles)
    for address in sorted(world.desired):
        if address not in cycles and address not in absorbed and address not in verdict.refused:
            _plan_task(world, world.desired[address], absorbed, findings)
    _plan_forgets(world, findings)
    _warn_no_history(world, state, findings)
    _warn_open_intents(world, findings)
    findings.diagnostics.extend(open_call_warnings(world.state, world.live, world.desired))
    changes = order_changes(_link_dependencies(findings.changes))
    return _assemble(world, findings, select_targets(changes, options.targets))


def _with_recognised(
    live: Mapping[str, LiveTask], state: StateSnapshot, verdict: GuardVerdict
) -> tuple[Mapping[str, LiveTask], StateSnapshot]:
    """Live and state as they are once the guard's recognised tasks are bound again."""
    if not verdict.recognised:
        return live, state
    found = {a: r.live for a, r in verdict.recognised.items() if r.live is not None}
    bindings = {**state.bindings, **{a: r.binding for a, r in verdict.recognised.items()}}
    return {**live, **found}, state.model_copy(update={"bindings": bindings})


def _record_guard(world: PlanningWorld, verdict: GuardVerdict, findings: Findings) -> None:
    """Adopt what the guard recognised; refuse what it could not tell apart or could not check."""
    for address, (code, message) in sorted(verdict.refused.items()):
        findings.problem(world.desired[address], code, message)
    for address, message in sorted(verdict.unchecked.items()):
        findings.problem(world.desired[address], "guard.unchecked", message, error=False)
    for address, found in sorted(verdict.recognised.items()):
        declared = world.desired[address]
        app = world.options.config.apps.get(declared.task.metadata.app)
        if app is None:
            continue  # app.unknown is reported when the task is planned
        observed = world.observed[address]
        task = TaskView(declared, app, observed, found.binding, found.binding.body or None)
        findings.changes.append(
            build_change(
                task,
                Action.ADOPT,
                reason=found.why,
                after=live_view(observed, found.binding.body),
                reversible=True,
                from_nothing=True,
            )
        )
        if found.binding.address not in world.state.tombstones:
            findings.problem(declared, "guard.recognised", found.why, error=False)


def _warn_no_history(world: PlanningWorld, state: StateSnapshot, findings: Findings) -> None:
    """With no record of an app, a push sent before TPNS's horizon would go out again."""
    guard_options = world.options.guard
    if guard_options is None:
        return
    known_apps = {b.app for b in (*state.bindings.values(), *state.tombstones.values())}
    first_create: dict[str, Change] = {}
    for change in findings.changes:
        if change.action is Action.CREATE and change.app not in known_apps:
            first_create.setdefault(change.app, change)
    for app, change in sorted(first_create.items()):
        catalog = guard_options.catalogs.get(app)
        since = catalog.since if catalog is not None else None
        when = f"before {since:%Y-%m-%d}" if since is not None else "before TPNS's record horizon"
        findings.problem(
            world.desired[change.address],
            "guard.no-history",
            f"state holds no record of app {app} (a new or emptied state): a push sent {when} "
            "is past TPNS's one-month record and cannot be recognised, so it would be sent "
            "again. If this app was applied from another state, use that state (PUSHCTL_STATE "
            'or --state); otherwise declare `pushId: "..."` on each task sent earlier',
            error=False,
        )


def _world(
    desired: Sequence[DeclaredTask],
    live: Mapping[str, LiveTask],
    state: StateSnapshot,
    now: datetime,
    options: PlanOptions,
) -> PlanningWorld:
    by_address = {declared.address: declared for declared in desired}
    observed = {
        address: live.get(address) or _recorded(declared, state.bindings.get(address))
        for address, declared in by_address.items()
    }
    forgotten = _forgotten_by_content(by_address, state)
    return PlanningWorld(by_address, live, state, now, options, observed, forgotten)


def _forgotten_by_content(
    desired: Mapping[str, DeclaredTask], state: StateSnapshot
) -> dict[tuple[str, str], tuple[str, TaskBinding, str]]:
    """Tasks pushctl sent that this plan forgets or that were forgotten, by app and content,
    found in one pass over state (a create looks its content up, never walks the state)."""
    forgotten = [
        (address, binding, "is no longer declared")
        for address, binding in state.bindings.items()
        if address not in desired
    ] + [
        (address, binding, "was forgotten")
        for address, binding in state.tombstones.items()
        if address not in desired and address not in state.bindings
    ]
    found: dict[tuple[str, str], tuple[str, TaskBinding, str]] = {}
    for address, binding, how in sorted(forgotten, key=lambda item: item[0]):
        digest = _recorded_digest(binding) if binding.created_by_pushctl else None
        if digest is not None:
            found.setdefault((binding.app, digest), (address, binding, how))
    return found


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


def _plan_task(
    world: PlanningWorld, declared: DeclaredTask, absorbed: dict[str, str], findings: Findings
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
    binding = world.state.bindings.get(address)
    task = TaskView(declared, app, world.observed[address], binding, _sent_body(world, declared))
    spec = declared.task.spec
    if spec.push_id is not None and not _adopt(world, task, findings):
        return
    if spec.push_id is None and task.binding is None:
        _plan_unsent(world, task, findings)
        return
    if _past_horizon(world, task):
        _plan_past_horizon(world, task, absorbed, findings)
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


def _past_horizon(world: PlanningWorld, task: TaskView) -> bool:
    """Bound to a push dated before TPNS's record horizon, and so not read (refresh skips it)."""
    binding = task.binding
    return (
        task.address not in world.live
        and binding is not None
        and binding.push_id == (task.declared.task.spec.push_id or binding.push_id)
        and binding.date is not None
        and binding.date < world.now - caps.RECORD_HORIZON
    )


#: Calls on the bound push itself, which TPNS refuses once the push is past its horizon.
_CALLS_ON_THE_PUSH = frozenset({Action.STOP, Action.RECALL, Action.CANCEL})


def _plan_past_horizon(
    world: PlanningWorld, task: TaskView, absorbed: dict[str, str], findings: Findings
) -> None:
    """Judge a task TPNS no longer shows from what state recorded of it; call nothing on it.

    A push dated over a month ago has delivered (or been settled) long since and no offline
    message of it is left (they expire within 72 hours): `active` needs nothing. Any other
    state the record does not already show cannot be reached any more: a warning says so.
    """
    binding = task.binding
    assert binding is not None  # _past_horizon
    spec = task.declared.task.spec
    if task.live is None:
        drift = _content_drift(world, task) if spec.push_id is None else None
        if spec.state is not DesiredState.ACTIVE:
            _unreachable(task, binding, "no status recorded", findings)
        elif drift is not None:
            findings.problem(
                task.declared,
                "content.delivered",
                f"{drift}, but {task.address} was sent on {binding.date:%Y-%m-%d}; a sent "
                "message cannot be edited — declare the new content as a new task",
            )
        else:
            findings.no_ops.add(task.address)
        return
    planned = len(findings.changes)
    _STATE_HANDLERS[spec.state](world, task, absorbed, findings)
    new = findings.changes[planned:]
    kept = [c for c in new if c.action not in _CALLS_ON_THE_PUSH or c.push_id != binding.push_id]
    if len(kept) < len(new):
        findings.changes[planned:] = kept
        _unreachable(task, binding, task.live.status.value, findings)


def _unreachable(task: TaskView, binding: TaskBinding, status: str, findings: Findings) -> None:
    assert binding.date is not None
    findings.problem(
        task.declared,
        "horizon.passed",
        f"{task.address} is bound to push {binding.push_id} of {binding.date:%Y-%m-%d} "
        f"({status}), older than TPNS's one-month record: TPNS no longer shows it or accepts "
        f"calls for it, so it cannot be made {task.declared.task.spec.state.value}; nothing "
        "is planned for it. Remove the manifest, or declare the state it was left in",
        error=False,
    )


def _sent_body(world: PlanningWorld, declared: DeclaredTask) -> dict[str, Any] | None:
    binding = world.state.bindings.get(declared.address)
    if binding is not None and binding.body:
        return binding.body
    if declared.task.spec.push is None:
        return None
    return build_body(declared, utc_offset=world.utc_offset)


def _adopt(world: PlanningWorld, task: TaskView, findings: Findings) -> bool:
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
        build_change(
            task,
            Action.ADOPT,
            reason=f"pushId {push_id} exists at TPNS and is not yet in state; record it",
            after=live_view(live),
            reversible=True,
            from_nothing=True,
        )
    )
    return True


def _plan_unsent(world: PlanningWorld, task: TaskView, findings: Findings) -> None:
    if task.declared.task.spec.state is DesiredState.ACTIVE:
        _create(world, task, findings)
    else:
        # Never sent: nothing to stop, cancel, recall or override.
        findings.no_ops.add(task.address)


def _create(world: PlanningWorld, task: TaskView, findings: Findings) -> None:
    if send_time_refused(world, task.declared, findings):
        return
    body = build_body(task.declared, utc_offset=world.utc_offset)
    if _resends_forgotten(world, task, body, findings):
        return
    findings.changes.append(
        build_change(
            task,
            Action.CREATE,
            reason=f"{task.address} is declared and has not been sent yet",
            api_calls=(ApiCall(path=PUSH_PATH, body=body),),
            after=new_push_view(world, task.declared, body),
            new_address=task.address,
            audience=audience_of(body),
            deadline=send_time_of(task.declared, utc_offset=world.utc_offset),
        )
    )


def _resends_forgotten(
    world: PlanningWorld, task: TaskView, body: dict[str, Any], findings: Findings
) -> bool:
    """A create with the content of a forgotten task (this plan's forget, or a tombstone) is
    a rename: it would send the same push twice."""
    key = (task.declared.task.metadata.app, content_digest(body))
    if key not in world.forgotten:
        return False
    address, binding, how = world.forgotten[key]
    findings.problem(
        task.declared,
        "create.resends-forgotten",
        f"{task.address} has the content of {address} (push {binding.push_id}), which "
        f"{how}: creating it would send the same push again. To rename, declare "
        f'`pushId: "{binding.push_id}"` on {task.address}; to send it again on purpose, '
        f"change its content or drop the record with `pushctl state rm --purge {address}`",
    )
    return True


def _plan_active(
    world: PlanningWorld, task: TaskView, _: dict[str, str], findings: Findings
) -> None:
    live = live_of(task)
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
        replace(world, task, task.declared, findings, reason=drift)
    else:
        code = "drift.delivered" if task.declared.task.spec.push_id else "content.delivered"
        findings.problem(
            task.declared,
            code,
            f"{drift}, but {task.address} was already delivered ({live.status.value}); "
            "a sent message cannot be edited — declare an override instead "
            "(`state: overridden` with `overriddenBy:` a new task)",
        )


def _content_drift(world: PlanningWorld, task: TaskView) -> str | None:
    """Why the live content differs from the declared push, or None when it does not."""
    push = task.declared.task.spec.push
    if push is None:
        return None
    if task.declared.task.spec.push_id is not None:
        live = live_of(task)
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


def _plan_stopped(
    world: PlanningWorld, task: TaskView, _: dict[str, str], findings: Findings
) -> None:
    live = live_of(task)
    if live.settled:
        findings.no_ops.add(task.address)
    elif caps.is_scheduled(live, world.now):
        _cancel(world, task, findings, reason="declared stopped; it has not started, so cancel it")
    elif not caps.offline_window_open(live, world.now):
        # Finished and past its offline window: nothing is left to stop.
        findings.no_ops.add(task.address)
    elif not findings.refused(task.declared, [caps.stop_refusal(task.app, task.audience_type)]):
        findings.changes.append(
            status_change(
                task,
                Action.STOP,
                STOP_PATH,
                LiveStatus.DELETED_PUSH_MSG,
                reason=f"declared stopped; live {live.status.value} may still deliver offline",
            )
        )


def _plan_cancelled(
    world: PlanningWorld, task: TaskView, _: dict[str, str], findings: Findings
) -> None:
    live = live_of(task)
    if live.status in NEVER_DELIVERED:
        findings.no_ops.add(task.address)
    elif caps.is_scheduled(live, world.now):
        _cancel(world, task, findings, reason="declared cancelled and not yet started")
    else:
        started = live.date.astimezone(tpns_zone(world)).strftime("%Y-%m-%d %H:%M")
        findings.problem(
            task.declared,
            "cancel.started",
            f"task {task.address} started at {started} ({live.status.value}); it can no longer "
            "be cancelled — declare `state: stopped` or an override",
        )


def _plan_recalled(
    world: PlanningWorld, task: TaskView, _: dict[str, str], findings: Findings
) -> None:
    live = live_of(task)
    if live.status in NEVER_DELIVERED or live.status is LiveStatus.REVOKED:
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
            status_change(
                task,
                Action.RECALL,
                RECALL_PATH,
                LiveStatus.REVOKED,
                reason="declared recalled; remove its delivered notifications",
                warnings=(RECALL_WARNING,),
            )
        )


def _cancel(world: PlanningWorld, task: TaskView, findings: Findings, *, reason: str) -> None:
    if findings.refused(task.declared, [caps.cancel_refusal(task.audience_type)]):
        return
    findings.changes.append(
        status_change(
            task, Action.CANCEL, CANCEL_PATH, LiveStatus.CANCELED, reason=reason, deadline=True
        )
    )


_STATE_HANDLERS = {
    DesiredState.ACTIVE: _plan_active,
    DesiredState.STOPPED: _plan_stopped,
    DesiredState.CANCELLED: _plan_cancelled,
    DesiredState.RECALLED: _plan_recalled,
    DesiredState.OVERRIDDEN: plan_overridden,
}


# --- Forget, open intents, dependencies, order, targets and the Plan itself.


def _plan_forgets(world: PlanningWorld, findings: Findings) -> None:
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


def _warn_open_intents(world: PlanningWorld, findings: Findings) -> None:
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


def _assemble(world: PlanningWorld, findings: Findings, changes: list[Change]) -> Plan:
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
        state_serials={
            app: world.state.app_serials.get(app, 0) for app in sorted({c.app for c in changes})
        },
        live_fingerprints={
            live.push_id: live_fingerprint(live)
            for live in sorted(world.live.values(), key=lambda t: t.push_id)
        },
    )


def live_fingerprint(live: LiveTask) -> str:
    """SHA-256 of what apply re-reads to tell that a task changed since planning."""
    record = [live.status.value, live.date.isoformat(), live.collapse_id]
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()
