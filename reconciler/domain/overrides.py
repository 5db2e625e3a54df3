"""Override and replace: sending a new push in place of an old task (reference 4.11, 6).

Which overriding tasks go out inside another task's override (and so get no create of their
own), overriddenBy cycles, and the override / replace changes with their warnings.
"""

from __future__ import annotations

from reconciler.domain import capabilities as caps
from reconciler.domain.body import audience_of
from reconciler.domain.body import tpns_body as build_body
from reconciler.domain.manifest.models import AppConfig, DeclaredTask, DesiredState, Platform
from reconciler.domain.plan import Action, ApiCall
from reconciler.domain.planning_context import (
    CANCEL_PATH,
    NEVER_DELIVERED,
    PUSH_PATH,
    Findings,
    PlanningWorld,
    TaskView,
    build_change,
    live_of,
    new_push_view,
    send_time_refused,
)
from reconciler.records import LiveStatus


def overrider_address(declared: DeclaredTask) -> str | None:
    name = declared.task.spec.overridden_by
    if declared.task.spec.state is not DesiredState.OVERRIDDEN or name is None:
        return None
    return f"{declared.task.metadata.app}/{name}"


def override_cycles(world: PlanningWorld, findings: Findings) -> set[str]:
    """Addresses on an overriddenBy loop; each gets an error and is not planned."""
    on_cycle: set[str] = set()
    for start in sorted(world.desired):
        path: list[str] = []
        current: str | None = start
        while current is not None and current in world.desired and current not in path:
            path.append(current)
            current = overrider_address(world.desired[current])
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


def _cycle_from(world: PlanningWorld, start: str) -> list[str]:
    path = [start]
    current = overrider_address(world.desired[start])
    while current is not None and current != start:
        path.append(current)
        current = overrider_address(world.desired[current])
    return [*path, start]


def absorbed_overriders(world: PlanningWorld, cycles: set[str]) -> dict[str, str]:
    """Overrider address -> the overridden address whose override or replace sends its push.

    Such a task gets no create of its own: its first push is the one that replaces the old task.
    """
    absorbed: dict[str, str] = {}
    for address in sorted(world.desired):
        target = overrider_address(world.desired[address])
        if address in cycles or target is None or target in absorbed:
            continue
        if _needs_override(world, address) and _can_absorb(world, target):
            absorbed[target] = address
    return absorbed


def _needs_override(world: PlanningWorld, address: str) -> bool:
    declared = world.desired[address]
    exists = declared.task.spec.push_id is not None or address in world.state.bindings
    observed = world.observed[address]
    return exists and (observed is None or not observed.settled)


def _can_absorb(world: PlanningWorld, target: str) -> bool:
    overrider = world.desired.get(target)
    if overrider is None or target in world.state.bindings:
        return False
    spec = overrider.task.spec
    return spec.state is DesiredState.ACTIVE and spec.push is not None and spec.push_id is None


def plan_overridden(
    world: PlanningWorld, task: TaskView, absorbed: dict[str, str], findings: Findings
) -> None:
    live = live_of(task)
    target = overrider_address(task.declared) or ""
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
        replace(
            world, task, overrider, findings, reason=f"overridden by {target} before it started"
        )
    else:
        _override(world, task, overrider, findings)


def _settled_overridden(task: TaskView, overrider_bound: bool, findings: Findings) -> None:
    status = live_of(task).status
    findings.no_ops.add(task.address)
    if overrider_bound or status in NEVER_DELIVERED or status is LiveStatus.REVOKED:
        return
    findings.problem(
        task.declared,
        "override.settled",
        f"{task.address} is already {status.value} and can no longer be overridden; its "
        "overrider goes out as a plain push — set this task's `state:` to match what happened",
        error=False,
    )


def _override_blocked(
    world: PlanningWorld,
    task: TaskView,
    overrider: DeclaredTask,
    absorbed: dict[str, str],
    findings: Findings,
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


def _override(
    world: PlanningWorld, task: TaskView, overrider: DeclaredTask, findings: Findings
) -> None:
    live = live_of(task)
    refusals = [
        caps.override_refusal(task.audience_type),
        caps.override_refusal(caps.audience_type_of(overrider.task.spec.push, None)),
    ]
    if findings.refused(task.declared, refusals) or send_time_refused(world, overrider, findings):
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
        build_change(
            task,
            Action.OVERRIDE,
            reason=f"overridden by {overrider.address}; it already started ({live.status.value})",
            api_calls=(ApiCall(path=PUSH_PATH, body=body),),
            after=new_push_view(world, overrider, body),
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


def replace(
    world: PlanningWorld, task: TaskView, source: DeclaredTask, findings: Findings, *, reason: str
) -> None:
    """Cancel a scheduled task and send `source`'s push, bound to `source`'s address."""
    live = live_of(task)
    refusals = [caps.cancel_refusal(task.audience_type)]
    if source.address != task.address:
        refusals.insert(0, caps.override_refusal(task.audience_type))
        refusals.append(caps.override_refusal(caps.audience_type_of(source.task.spec.push, None)))
    if findings.refused(task.declared, refusals) or send_time_refused(world, source, findings):
        return
    body = build_body(source, utc_offset=world.utc_offset)
    findings.changes.append(
        build_change(
            task,
            Action.REPLACE,
            reason=f"{reason}; cancel it and send the new push",
            api_calls=(
                ApiCall(path=CANCEL_PATH, body={"pushId": live.push_id}),
                ApiCall(path=PUSH_PATH, body=body),
            ),
            after=new_push_view(world, source, body),
            new_address=source.address,
            audience=audience_of(body),
            deadline=live.date,
        )
    )
