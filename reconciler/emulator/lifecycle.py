"""Task status over time and the preconditions of stop / revoke / cancel (section 10 items 4-7).

A task's status is derived from the clock unless an operation (or a seed) pinned it:
scheduled -> PUSH_WAIT until send_time; immediate -> PUSH_INIT for `init_seconds`; then
PUSH_STARTED for `task_delivery_seconds`; then PUSH_FINISHED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from reconciler.emulator.push_rules import BROADCAST_AUDIENCES
from reconciler.emulator.refusals import Refusal
from reconciler.emulator.settings import EmulatorSettings, Platform

STATUSES = (
    "PUSH_INIT",
    "PUSH_WAIT",
    "PUSH_STARTED",
    "PUSH_FINISHED",
    "PUSH_FAILED",
    "PUSH_CANCELED",
    "PUSH_DELETED",
    "PUSH_REVOKED",
    "PUSH_COLLAPSED",
    "PUSH_DELETED_PUSH_MSG",
)
#: Statuses in which a task can still be overridden by a later push with its collapse_id.
COLLAPSIBLE = frozenset({"PUSH_INIT", "PUSH_WAIT", "PUSH_STARTED", "PUSH_FINISHED"})
#: Terminate/recall target "all devices, batch accounts, tags" (section 10 item 5).
STOPPABLE_AUDIENCES = frozenset({"all", "tag", "account_list", "package_account_push"})


class TaskIndexEntry(NamedTuple):
    """What a date-range query filters and sorts on, without loading the whole task."""

    push_id: int
    shown_at: float  # the record's `date`: send time if scheduled, else creation time
    audience_type: str
    message_type: str


@dataclass(frozen=True)
class TaskRow:
    """One stored task; times are epoch seconds (UTC)."""

    push_id: int
    access_id: str
    body: str
    audience_type: str
    message_type: str
    environment: str
    title: str
    content: str
    created_at: float
    send_at: float | None
    expire_time: int
    collapse_id: int
    force_collapse: bool
    pinned_status: str | None
    status_at: float | None
    seeded: bool
    targets: str
    upload_id: int

    @property
    def scheduled(self) -> bool:
        return self.send_at is not None

    def dispatch_at(self, settings: EmulatorSettings) -> float:
        """When delivery starts: the send time, or creation plus the PUSH_INIT phase."""
        if self.send_at is not None:
            return self.send_at
        return self.created_at + settings.init_seconds

    def display_time(self) -> datetime:
        """The record's `date`: send time for scheduled tasks, creation time otherwise."""
        stamp = self.send_at if self.send_at is not None else self.created_at
        return datetime.fromtimestamp(stamp, tz=UTC)

    def status(self, now: datetime, settings: EmulatorSettings) -> str:
        if self.pinned_status is not None:
            return self.pinned_status
        moment = now.timestamp()
        start = self.dispatch_at(settings)
        if moment < start:
            return "PUSH_WAIT" if self.scheduled else "PUSH_INIT"
        if moment < start + settings.task_delivery_seconds:
            return "PUSH_STARTED"
        return "PUSH_FINISHED"


def _refuse(settings: EmulatorSettings, reason: str, detail: str) -> Refusal:
    return Refusal(settings.refusal_code(reason), detail)


def _delivering(task: TaskRow, status: str, now: datetime, settings: EmulatorSettings) -> bool:
    """Delivery began and offline messages may still be pending (inside expire_time)."""
    if status == "PUSH_STARTED":
        return True
    if status != "PUSH_FINISHED":
        return False
    offline_until = task.dispatch_at(settings) + task.expire_time
    return now.timestamp() < offline_until


def check_stop(
    task: TaskRow, *, platform: Platform, now: datetime, settings: EmulatorSettings
) -> str:
    """Return the status after a terminate, or raise the configured refusal."""
    if platform != "android":
        raise _refuse(settings, "stop_platform", "stop_push_msg is not supported for iOS apps")
    if task.audience_type not in STOPPABLE_AUDIENCES:
        raise _refuse(
            settings, "stop_audience", f"a {task.audience_type} task cannot be terminated"
        )
    status = task.status(now, settings)
    if not _delivering(task, status, now, settings):
        raise _refuse(settings, "stop_state", f"task {task.push_id} is {status}; nothing to stop")
    return "PUSH_DELETED_PUSH_MSG"


def check_revoke(
    task: TaskRow, *, recall_enabled: bool, now: datetime, settings: EmulatorSettings
) -> str:
    """Return the status after a recall, or raise the configured refusal."""
    if not recall_enabled:
        raise _refuse(settings, "revoke_disabled", "message recall is offline for this app")
    if task.audience_type not in STOPPABLE_AUDIENCES:
        raise _refuse(
            settings, "revoke_audience", f"a {task.audience_type} task cannot be recalled"
        )
    status = task.status(now, settings)
    if not _delivering(task, status, now, settings):
        raise _refuse(
            settings,
            "revoke_state",
            f"task {task.push_id} is {status}; only a task delivering or inside its "
            "expire_time window can be recalled",
        )
    return "PUSH_REVOKED"


def check_cancel(task: TaskRow, *, now: datetime, settings: EmulatorSettings) -> str:
    """Return the status after cancelling a scheduled task, or raise the configured refusal."""
    if task.audience_type not in BROADCAST_AUDIENCES:
        raise _refuse(
            settings, "cancel_audience", f"a {task.audience_type} task cannot be scheduled"
        )
    status = task.status(now, settings)
    in_future = task.send_at is not None and task.send_at > now.timestamp()
    if status not in ("PUSH_INIT", "PUSH_WAIT") or not in_future:
        why = "only a scheduled task not yet dispatched can be cancelled"
        raise _refuse(settings, "cancel_state", f"task {task.push_id} is {status}; {why}")
    return "PUSH_CANCELED"


def within_horizon(task: TaskRow, now: datetime, settings: EmulatorSettings) -> bool:
    """Only tasks of the last month are visible (section 5.1)."""
    horizon = now - timedelta(days=settings.record_horizon_days)
    return task.created_at >= horizon.timestamp()
