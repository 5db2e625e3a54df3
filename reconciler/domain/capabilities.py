"""What TPNS can do to a task, by platform, audience type and app capability.

One table for the planner and the validator (reference sections 6.3 and 9). Each check returns
None when allowed, or the reason it is not (as a `Refusal` with a stable diagnostic code, for the
planner). Also the status rules of reference section 10 item 7: when a task is still scheduled,
has started, or still has offline messages a stop can drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.domain.manifest.models import AppConfig, DesiredState, Platform
from reconciler.records import SETTLED_STATUSES, LiveStatus, LiveTask

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


_NEVER_DELIVERED = frozenset({LiveStatus.CANCELED, LiveStatus.FAILED, LiveStatus.DELETED})
#: Settled statuses that already satisfy each desired state: the planner answers them with no
#: change and no error, so refresh need not read such tasks again.
SETTLED_SATISFYING: dict[DesiredState, frozenset[LiveStatus]] = {
    DesiredState.ACTIVE: frozenset(),
    DesiredState.STOPPED: SETTLED_STATUSES,
    DesiredState.RECALLED: _NEVER_DELIVERED | {LiveStatus.REVOKED},
    DesiredState.CANCELLED: _NEVER_DELIVERED,
    DesiredState.OVERRIDDEN: _NEVER_DELIVERED | {LiveStatus.COLLAPSED, LiveStatus.REVOKED},
}


def can_schedule(audience_type: str) -> str | None:
    if audience_type in SCHEDULABLE_AUDIENCES:
        return None
    return (
        f"audience_type {audience_type!r} cannot be scheduled; "
        "only all, tag and package_account_push"
    )


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


# --- Refusals with stable diagnostic codes, and the status rules of reference section 10 item 7.


@dataclass(frozen=True)
class Refusal:
    """Why TPNS would refuse an operation: a stable diagnostic code and what to do instead."""

    code: str
    message: str


def cancel_refusal(audience_type: str) -> Refusal | None:
    reason = can_cancel(audience_type)
    return None if reason is None else Refusal("cancel.audience", reason)


def stop_refusal(app: AppConfig, audience_type: str) -> Refusal | None:
    reason = can_stop(app, audience_type)
    if reason is None:
        return None
    return Refusal("stop.ios" if app.platform is Platform.IOS else "stop.audience", reason)


def recall_refusal(app: AppConfig, audience_type: str) -> Refusal | None:
    reason = can_recall(app, audience_type)
    if reason is None:
        return None
    code = "recall.audience" if app.capabilities.recall else "recall.unavailable"
    return Refusal(code, reason)


def override_refusal(audience_type: str) -> Refusal | None:
    reason = can_override(audience_type)
    return None if reason is None else Refusal("override.audience", reason)


#: TPNS's default offline retention when a record reports none (reference section 4.8).
DEFAULT_EXPIRE_SECONDS = 86400
#: TPNS keeps push records for about a month: an older task is neither shown nor accepts calls.
RECORD_HORIZON = timedelta(days=30)
_NOT_DISPATCHED = frozenset({LiveStatus.INIT, LiveStatus.WAIT})


def is_scheduled(live: LiveTask, now: datetime) -> bool:
    """Created, not dispatched, and due later: the only state cancel_timing_task accepts."""
    return live.status in _NOT_DISPATCHED and live.date > now


def has_started(live: LiveTask, now: datetime) -> bool:
    """Delivery has begun (or is due), so cancel is no longer possible."""
    if live.status in {LiveStatus.STARTED, LiveStatus.FINISHED}:
        return True
    return live.status in _NOT_DISPATCHED and live.date <= now


def offline_window_open(live: LiveTask, now: datetime) -> bool:
    """Terminate still has pending offline messages to drop (stop_push_msg is accepted)."""
    if live.status is LiveStatus.FINISHED:
        # A record without expireTime is read with TPNS's default rather than as "real-time":
        # planning a stop the server then finds settled is harmless, missing one is not.
        seconds = live.expire_time or DEFAULT_EXPIRE_SECONDS
        return now < live.date + timedelta(seconds=seconds)
    return has_started(live, now)


def audience_type_of(body: dict[str, Any] | None, live: LiveTask | None) -> str:
    """The declared audience_type, else the one TPNS reports for the live task."""
    if body and body.get("audience_type"):
        return str(body["audience_type"])
    return live.push_type if live is not None else ""
