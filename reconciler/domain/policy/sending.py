"""Policy rules that depend on when the plan is made: a push without `send_time` goes out as
soon as it is applied, so quiet hours are checked against the planning clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from reconciler.domain.manifest.models import DeclaredTask
from reconciler.domain.plan import Action, Change, Diagnostic, Plan
from reconciler.domain.policy.settings import NotificationPolicy

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
    plan: Plan, policy: NotificationPolicy, *, now: datetime, declared: Mapping[str, DeclaredTask]
) -> Plan:
    """`plan` plus a quiet-hours finding for each push it would send at once inside the window;
    an error finding makes the plan unapplyable."""
    found = [
        diagnostic
        for change in plan.changes
        if (diagnostic := _immediate_in_quiet_hours(change, policy, now=now, declared=declared))
    ]
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
    address = change.new_address or change.address
    task = declared.get(address)
    return Diagnostic(
        severity="error" if severity == "error" else "warning",
        code="policy.quiet-hours",
        address=address,
        file=task.file if task else "",
        line=task.line if task else 0,
        column=task.column if task else 0,
        message=(
            f"this push has no send_time, so it goes out when applied, and now "
            f"({local:%Y-%m-%d %H:%M} {quiet.zone}) is inside the quiet hours "
            f"{quiet.start:%H:%M}-{quiet.end:%H:%M}; add a send_time outside the window "
            "or plan again after it"
        ),
    )
