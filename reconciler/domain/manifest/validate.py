"""Checks across tasks and against pushctl.yaml, after each manifest is valid on its own.

Pure: the declared tasks and the configuration in, diagnostics out. What depends on live status
(has the task started?) is the planner's; this module checks what the manifests alone decide.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from reconciler.domain.capabilities import (
    can_cancel,
    can_override,
    can_recall,
    can_schedule,
    can_stop,
)
from reconciler.domain.manifest.models import (
    AppConfig,
    DeclaredTask,
    DesiredState,
    Platform,
    PushctlConfig,
)
from reconciler.domain.plan import Diagnostic

#: Stable diagnostic codes (plan files and CI annotations rely on them) and what each means.
VALIDATION_CODES: dict[str, str] = {
    "app.unknown": "metadata.app is not a key of `apps` in pushctl.yaml",
    "task.duplicate": "two manifests declare the same app/name",
    "override.unknown-target": "overriddenBy names no PushTask of the same app",
    "override.cycle": "overriddenBy links form a cycle",
    "override.target-inactive": "the overriding task is itself cancelled or recalled",
    "override.force-collapse-unused": "forceCollapse on a task that overrides nothing (warning)",
    "state.cancel-unscheduled": "cancelled, but the push has no send_time: it is sent at once",
    "capability.stop": "this app or audience type cannot be stopped (terminated)",
    "capability.recall": "this app or audience type cannot be recalled",
    "capability.override": "this audience type has no collapse id and cannot be overridden",
    "capability.cancel": "this audience type cannot be scheduled, so cannot be cancelled",
    "capability.schedule": "this audience type does not accept send_time or loop_param",
    "platform.environment": "a push for an iOS app needs `environment`",
    "platform.android-field": "an Android-only message field on an iOS app",
    "platform.ios-field": "an iOS-only message field on an Android app",
}

#: Message fields only one platform understands (reference sections 4.4-4.7).
ANDROID_ONLY_MESSAGE_FIELDS: tuple[str, ...] = (
    "accept_time",
    "thread_sumtext",
    "xg_media_audio_resources",
    "android",
)
IOS_ONLY_MESSAGE_FIELDS: tuple[str, ...] = ("ios", "show_type")
_OVERRIDING_MUST_NOT_BE = frozenset({DesiredState.CANCELLED, DesiredState.RECALLED})


def validate_tasks(tasks: Sequence[DeclaredTask], config: PushctlConfig) -> list[Diagnostic]:
    """Every cross-task, configuration and capability problem, ordered by address then code."""
    by_address: dict[str, DeclaredTask] = {}
    diagnostics: list[Diagnostic] = []
    for declared in tasks:
        first = by_address.setdefault(declared.address, declared)
        if first is not declared:
            diagnostics.append(_duplicate(declared, first))
            continue
        app = config.apps.get(declared.task.metadata.app)
        if app is None:
            diagnostics.append(_unknown_app(declared, config))
            continue
        diagnostics.extend(_task_checks(declared, app))
    diagnostics.extend(_override_checks(by_address))
    return sorted(diagnostics, key=lambda d: (d.address, d.code, d.message))


def _error(declared: DeclaredTask, code: str, message: str) -> Diagnostic:
    return diagnostic_at(declared, code, message, severity="error")


def diagnostic_at(
    declared: DeclaredTask, code: str, message: str, *, severity: Literal["error", "warning"]
) -> Diagnostic:
    """A diagnostic located at the task's document; the validator and the planner share it."""
    return Diagnostic(
        severity=severity,
        code=code,
        address=declared.address,
        file=declared.file,
        line=declared.line,
        column=declared.column,
        message=message,
    )


def _duplicate(declared: DeclaredTask, first: DeclaredTask) -> Diagnostic:
    return _error(
        declared,
        "task.duplicate",
        f"{declared.address} is already declared at {first.file}:{first.line}:{first.column}; "
        "rename one (metadata.name is unique per app)",
    )


def _unknown_app(declared: DeclaredTask, config: PushctlConfig) -> Diagnostic:
    name = declared.task.metadata.app
    close = difflib.get_close_matches(name, sorted(config.apps), n=1, cutoff=0.6)
    hint = (
        f"did you mean `{close[0]}`?" if close else f"known apps: {', '.join(sorted(config.apps))}"
    )
    return _error(declared, "app.unknown", f"app {name!r} is not in pushctl.yaml `apps`; {hint}")


def _task_checks(declared: DeclaredTask, app: AppConfig) -> Iterator[Diagnostic]:
    push = declared.task.spec.push
    if push is None:
        return  # an adopted task: its audience is known only once it is read live
    yield from _capability_checks(declared, app, str(push.get("audience_type", "")))
    if declared.task.spec.state is DesiredState.CANCELLED and "send_time" not in push:
        yield _error(
            declared,
            "state.cancel-unscheduled",
            "state: cancelled needs a scheduled push (`push.send_time`); an immediate push "
            "cannot be cancelled — declare `state: stopped` or remove the task",
        )
    yield from _platform_checks(declared, app, push)


def _capability_checks(
    declared: DeclaredTask, app: AppConfig, audience: str
) -> Iterator[Diagnostic]:
    state = declared.task.spec.state
    push = declared.task.spec.push or {}
    checks = {
        DesiredState.STOPPED: ("capability.stop", can_stop(app, audience)),
        DesiredState.RECALLED: ("capability.recall", can_recall(app, audience)),
        DesiredState.OVERRIDDEN: ("capability.override", can_override(audience)),
        DesiredState.CANCELLED: ("capability.cancel", can_cancel(audience)),
    }
    if state in checks:
        code, reason = checks[state]
        if reason is not None:
            yield _error(declared, code, f"state: {state.value} is not possible: {reason}")
    if "send_time" in push or "loop_param" in push:
        reason = can_schedule(audience)
        if reason is not None:
            yield _error(declared, "capability.schedule", reason)


def _platform_checks(
    declared: DeclaredTask, app: AppConfig, push: dict[str, Any]
) -> Iterator[Diagnostic]:
    message = push.get("message") or {}
    if app.platform is Platform.IOS:
        if "environment" not in push:
            yield _error(
                declared,
                "platform.environment",
                "app is an iOS app: add `push.environment: product` (or `dev`)",
            )
        wrong, code = ANDROID_ONLY_MESSAGE_FIELDS, "platform.android-field"
    else:
        wrong, code = IOS_ONLY_MESSAGE_FIELDS, "platform.ios-field"
    for field in wrong:
        if field in message:
            yield _error(
                declared,
                code,
                f"push.message.{field} does not apply to a {app.platform.value} app; remove it",
            )


def _override_checks(by_address: dict[str, DeclaredTask]) -> Iterator[Diagnostic]:
    yield from _unused_force_collapse(by_address)
    reported_cycles: set[frozenset[str]] = set()
    for address, declared in by_address.items():
        spec = declared.task.spec
        if spec.overridden_by is None:
            continue
        target_address = f"{declared.task.metadata.app}/{spec.overridden_by}"
        target = by_address.get(target_address)
        if target is None:
            yield _error(
                declared,
                "override.unknown-target",
                f"overriddenBy: {spec.overridden_by} names no PushTask of app "
                f"{declared.task.metadata.app}; declare {target_address} or fix the name",
            )
            continue
        if target.task.spec.state in _OVERRIDING_MUST_NOT_BE:
            yield _error(
                declared,
                "override.target-inactive",
                f"{target_address} overrides this task but is itself "
                f"{target.task.spec.state.value}; make it active or override with another task",
            )
        cycle = _cycle_from(address, by_address)
        if cycle and frozenset(cycle) not in reported_cycles:
            reported_cycles.add(frozenset(cycle))
            yield _error(
                declared,
                "override.cycle",
                f"overriddenBy forms a cycle: {' -> '.join([*cycle, cycle[0]])}; "
                "the last task of a chain must not be overridden",
            )


def _unused_force_collapse(by_address: dict[str, DeclaredTask]) -> Iterator[Diagnostic]:
    overriding = {
        f"{d.task.metadata.app}/{d.task.spec.overridden_by}"
        for d in by_address.values()
        if d.task.spec.overridden_by is not None
    }
    for address, declared in by_address.items():
        if declared.task.spec.force_collapse and address not in overriding:
            yield diagnostic_at(
                declared,
                "override.force-collapse-unused",
                "forceCollapse only matters on a task named by another task's overriddenBy; "
                "remove it or declare the override",
                severity="warning",
            )


def _cycle_from(start: str, by_address: dict[str, DeclaredTask]) -> list[str]:
    """The cycle `start` belongs to (addresses in link order), or [] if it has none."""
    path: list[str] = []
    current: str | None = start
    while current is not None and current not in path:
        path.append(current)
        declared = by_address.get(current)
        nxt = declared.task.spec.overridden_by if declared is not None else None
        current = f"{declared.task.metadata.app}/{nxt}" if declared and nxt else None
    return path if current == start else []
