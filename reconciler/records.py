"""Value types shared by the I/O layer (tpns, state) and the pure domain.

Plain frozen records, no behaviour beyond derived properties: the TPNS client produces
`LiveTask`, the state store produces `StateSnapshot`, the planner consumes both.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LiveStatus(StrEnum):
    """The ten documented TPNS task statuses (reference section 5.1)."""

    INIT = "PUSH_INIT"
    WAIT = "PUSH_WAIT"
    STARTED = "PUSH_STARTED"
    FINISHED = "PUSH_FINISHED"
    FAILED = "PUSH_FAILED"
    CANCELED = "PUSH_CANCELED"
    DELETED = "PUSH_DELETED"
    REVOKED = "PUSH_REVOKED"
    COLLAPSED = "PUSH_COLLAPSED"
    DELETED_PUSH_MSG = "PUSH_DELETED_PUSH_MSG"


#: Statuses from which TPNS never moves a task again.
SETTLED_STATUSES = frozenset(
    {
        LiveStatus.CANCELED,
        LiveStatus.COLLAPSED,
        LiveStatus.DELETED_PUSH_MSG,
        LiveStatus.REVOKED,
        LiveStatus.FAILED,
        LiveStatus.DELETED,
    }
)


class Frozen(BaseModel):
    # defer_build: a model's validator is built on its first use, so a command builds only
    # the models it uses (`pushctl validate` never builds the plan's or the state's).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class LiveTask(Frozen):
    """One task as TPNS reports it (`pushRecordData[]`), normalised.

    `date` is timezone-aware (TPNS wall time interpreted in the configured zone, UTC+8 by
    default): the scheduled send time of a scheduled task, otherwise its creation time.
    """

    push_id: str
    status: LiveStatus
    date: datetime
    push_type: str
    message_type: str
    title: str = ""
    content: str = ""
    environment: str = ""
    expire_time: int = 0
    collapse_id: int = 0
    raw: dict[str, Any] = Field(default_factory=dict)

    @property
    def settled(self) -> bool:
        return self.status in SETTLED_STATUSES


class TaskBinding(Frozen):
    """What the state store knows of one declared task."""

    address: str
    app: str
    push_id: str
    created_by_pushctl: bool
    last_status: LiveStatus | None = None
    date: datetime | None = None
    collapse_id: int = 0
    content_digest: str = ""
    #: The /v3/push/app body pushctl last sent for this task (empty for adopted tasks).
    body: dict[str, Any] = Field(default_factory=dict)


class Intent(Frozen):
    """A write-ahead record of a `/v3/push/app` call that has no recorded outcome yet."""

    intent_id: str
    run_id: str
    #: The address the new push will belong to.
    address: str
    app: str
    action: str
    body_digest: str
    body: dict[str, Any]
    created_at: datetime
    #: The address of the change that sends it, when another (an override's old task).
    change_address: str = ""
    #: No conclusion before this: the request timed out and TPNS may still create the task.
    hold_until: datetime | None = None


class TaskCall(Frozen):
    """A write-ahead record of a stop, recall or cancel: committed right before it leaves.

    Closed with an outcome when TPNS answers, or by the next run from the task's live status.
    """

    call_id: str
    run_id: str
    #: The address of the change that makes the call.
    address: str
    app: str
    #: The change's action (stop, recall, cancel, or the cancel of a replace).
    action: str
    #: The TPNS path called.
    path: str
    push_id: str
    created_at: datetime


class StateSnapshot(Frozen):
    """Everything the planner needs from the state store, read once."""

    lineage: str
    #: Counts the applies that changed anything, in any app.
    serial: int
    #: Per app, the applies that changed that app (an app never changed is absent: 0).
    app_serials: dict[str, int] = Field(default_factory=dict)
    bindings: dict[str, TaskBinding] = Field(default_factory=dict)
    #: Bindings forgotten (`forget`, `state rm`), kept so a restored manifest adopts its push again.
    tombstones: dict[str, TaskBinding] = Field(default_factory=dict)
    open_intents: tuple[Intent, ...] = ()
    #: Stops, recalls and cancels that left with no recorded answer.
    open_calls: tuple[TaskCall, ...] = ()
