"""Policy rules that depend on the plan: a push without `send_time` goes out as soon as it is
applied, so quiet hours are checked against the planning clock; and all-device pushes are
counted per day with the ones state says were sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig
from reconciler.domain.plan import Action, Change, Diagnostic, Plan
from reconciler.domain.policy.broadcasts import Broadcast, broadcasts, busiest_day
from reconciler.domain.policy.settings import NotificationPolicy, Severity
from reconciler.records import TaskBinding

SENDING_ACTIONS = frozenset({Action.CREATE, Action.OVERRIDE, Action.REPLACE})
PUSH_PATH = "/v3/push/app"


def sent_body(change: Change) -> dict[str, Any] | None:
    """The push a create, override or replace sends, or None for any other change."""
    if change.action not in SENDING_ACTIONS:
        return None
    for call in change.api_calls:
        if call.path == PUSH_PATH:
            return call.body
    return None


def with_sending_policy(
    plan: Plan,
    config: PushctlConfig,
    *,
    now: datetime,
    declared: Mapping[str, DeclaredTask],
    bindings: Mapping[str, TaskBinding],
) -> Plan:
    """`plan` plus the quiet-hours and daily-broadcast findings of the pushes it would send;
    an error finding makes the plan unapplyable."""
    policy = config.policy
    found = [
        diagnostic
        for change in plan.changes
        if (diagnostic := _immediate_in_quiet_hours(change, policy, now=now, declared=declared))
    ]
    found += _too_many_broadcasts(plan, config, now=now, declared=declared, bindings=bindings)
    if not found:
        return plan
    applyable = plan.applyable and not any(d.severity == "error" for d in found)
    return plan.model_copy(
        update={"diagnostics": (*plan.diagnostics, *found), "applyable": applyable}
    )


def _immediate_in_quiet_hours(
    change: Change,
    policy: NotificationPolicy,
    *,
    now: datetime,
    declared: Mapping[str, DeclaredTask],
) -> Diagnostic | None:
    quiet = policy.quiet_hours
    severity = policy.severity.quiet_hours
    body = sent_body(change)
    if quiet is None or severity == "off" or body is None or body.get("send_time"):
        return None
    local = now.astimezone(quiet.tz)
    if not quiet.contains(local.time()):
        return None
    return _at_task(
        change.new_address or change.address,
        declared,
        code="policy.quiet-hours",
        severity=severity,
        message=(
            f"this push has no send_time, so it goes out when applied, and now "
            f"({local:%Y-%m-%d %H:%M} {quiet.zone}) is inside the quiet hours "
            f"{quiet.start:%H:%M}-{quiet.end:%H:%M}; add a send_time outside the window "
            "or plan again after it"
        ),
    )


def _too_many_broadcasts(
    plan: Plan,
    config: PushctlConfig,
    *,
    now: datetime,
    declared: Mapping[str, DeclaredTask],
    bindings: Mapping[str, TaskBinding],
) -> list[Diagnostic]:
    limit = config.policy.max_broadcasts_per_day
    severity = config.policy.severity.broadcasts
    if limit is None or severity == "off":
        return []
    sends = [(c, body) for c in plan.changes if (body := sent_body(c)) is not None]
    per_app = broadcasts(sends, bindings, now=now, utc_offset=config.tpns_utc_offset)
    found: list[Diagnostic] = []
    for app, app_sends in sorted(per_app.items()):
        for send in (s for s in app_sends if s.planned):
            day = busiest_day(app_sends, send)
            if len(day) > limit:
                found.append(_broadcast_finding(app, send, day, limit, severity, declared))
    return found


def _broadcast_finding(
    app: str,
    send: Broadcast,
    day: list[Broadcast],
    limit: int,
    severity: Severity,
    declared: Mapping[str, DeclaredTask],
) -> Diagnostic:
    others = ", ".join(
        f"{s.address} ({'planned' if s.planned else 'created'} for {s.moment:%Y-%m-%d %H:%M})"
        for s in day
        if s is not send
    )
    return _at_task(
        send.address,
        declared,
        code="policy.broadcasts",
        severity=severity,
        message=(
            f"this would be one of {len(day)} pushes to all devices of app {app} within 24 "
            f"hours, over policy.maxBroadcastsPerDay {limit} (with {others}); schedule it a "
            "day later, send it to a tag, or drop one"
        ),
    )


def _at_task(
    address: str,
    declared: Mapping[str, DeclaredTask],
    *,
    code: str,
    severity: Severity,
    message: str,
) -> Diagnostic:
    task = declared.get(address)
    return Diagnostic(
        severity="error" if severity == "error" else "warning",
        code=code,
        address=address,
        file=task.file if task else "",
        line=task.line if task else 0,
        column=task.column if task else 0,
        message=message,
    )
