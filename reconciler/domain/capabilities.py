"""What TPNS can do to a task, by platform, audience type and app capability.

One table for the planner and the validator (reference sections 6.3 and 9). Each check returns
None when allowed, or the reason it is not, so callers can turn it into a diagnostic.
"""

from __future__ import annotations

from reconciler.domain.manifest.models import AppConfig, Platform

#: Audience types that accept `send_time`, `loop_param` and cancel_timing_task.
SCHEDULABLE_AUDIENCES = frozenset({"all", "tag", "package_account_push"})
#: Audience types TPNS assigns a collapse id to, so an override can target them.
OVERRIDABLE_AUDIENCES = frozenset({"all", "tag", "package_account_push"})
#: Audience types terminate (stop_push_msg) and recall accept ("all devices, batch accounts, tags").
STOPPABLE_AUDIENCES = frozenset({"all", "tag", "account_list", "package_account_push"})

#: The `pushType` TPNS reports for each request `audience_type` (reference section 10 item 17).
REPORTED_PUSH_TYPE = {
    "all": "all",
    "tag": "tag",
    "token": "token_list",
    "token_list": "token_list",
    "account": "account_list",
    "account_list": "account_list",
    "package_account_push": "package_account_push",
    "package_token_push": "package_token_push",
}


def can_schedule(audience_type: str) -> str | None:
    if audience_type in SCHEDULABLE_AUDIENCES:
        return None
    return f"audience_type {audience_type!r} cannot be scheduled; only all, tag and package_account_push"


def can_cancel(audience_type: str) -> str | None:
    if audience_type in SCHEDULABLE_AUDIENCES:
        return None
    return (
        f"audience_type {audience_type!r} cannot be cancelled; "
        "only all, tag and package_account_push tasks are scheduled"
    )


def can_stop(app: AppConfig, audience_type: str) -> str | None:
    if app.platform is Platform.IOS:
        return "TPNS cannot terminate tasks of iOS apps; declare an override or leave it active"
    if audience_type not in STOPPABLE_AUDIENCES:
        return (
            f"audience_type {audience_type!r} cannot be terminated; "
            "only all, tag, account_list and package_account_push"
        )
    return None


def can_recall(app: AppConfig, audience_type: str) -> str | None:
    if not app.capabilities.recall:
        return (
            "recall is offline at TPNS and not enabled for this app "
            "(capabilities.recall in pushctl.yaml); declare `state: stopped` or an override"
        )
    if audience_type not in STOPPABLE_AUDIENCES:
        return (
            f"audience_type {audience_type!r} cannot be recalled; "
            "only all, tag, account_list and package_account_push"
        )
    return None


def can_override(audience_type: str) -> str | None:
    if audience_type in OVERRIDABLE_AUDIENCES:
        return None
    return (
        f"audience_type {audience_type!r} has no collapse id and cannot be overridden; "
        "only all, tag and package_account_push; declare `state: stopped` instead"
    )
