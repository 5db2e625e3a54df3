"""What the planner works with while planning: the world, one task's view, the findings.

Also how a change and its before/after views are built, and the send_time limits every new
push is checked against. Used by planner.py and overrides.py only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from reconciler.domain import capabilities as caps
from reconciler.domain.body import audience_of, parse_utc_offset, send_time_of
from reconciler.domain.diff import diff
from reconciler.domain.duplicate_guard import GuardOptions
from reconciler.domain.manifest.models import AppConfig, DeclaredTask, PushctlConfig
from reconciler.domain.manifest.validate import diagnostic_at
from reconciler.domain.plan import Action, ApiCall, ApiUsage, Change, Diagnostic
from reconciler.records import LiveStatus, LiveTask, StateSnapshot, TaskBinding

PUSH_PATH = "/v3/push/app"
STOP_PATH = "/v3/push/stop_push_msg"
RECALL_PATH = "/v3/push/revoke_push_msg"
CANCEL_PATH = "/v3/push/cancel_timing_task"

#: TPNS accepts send_time at most 90 days ahead and at most 10 minutes past (reference 4.8).
MAX_SCHEDULE_AHEAD = timedelta(days=90)
MAX_SEND_TIME_PAST = timedelta(minutes=10)

#: Statuses in which an overridden task needs nothing more, whatever became of its overrider.
NEVER_DELIVERED = frozenset({LiveStatus.CANCELED, LiveStatus.FAILED, LiveStatus.DELETED})

RECALL_WARNING = (
    "recall wakes apps: TPNS delivers it as a silent message that starts the app on each device"
)


@dataclass(frozen=True)
class PlanOptions:
    """Everything a plan needs besides desired, live, state and the time."""

    config: PushctlConfig
    tool_version: str
    #: Plan only these addresses (and what they depend on); empty means every task.
    targets: frozenset[str] = frozenset()
    api_usage: ApiUsage = field(default_factory=ApiUsage)
    input_digest: str = ""
    #: The duplicate guard's live listings (None: the caller read none, the guard is off).
    guard: GuardOptions | None = None


@dataclass(frozen=True)
class PlanningWorld:
    desired: dict[str, DeclaredTask]
    live: Mapping[str, LiveTask]
    state: StateSnapshot
    now: datetime
    options: PlanOptions
    #: What pushctl last knew of each declared task: the live record, else the recorded one.
    observed: dict[str, LiveTask | None]
    #: (app, content digest) -> the first (by address) task pushctl sent that is no longer
    #: declared or was forgotten, with how it went: a create with its content is a rename.
    forgotten: dict[tuple[str, str], tuple[str, TaskBinding, str]] = field(default_factory=dict)

    @property
    def utc_offset(self) -> str:
        return self.options.config.tpns_utc_offset


@dataclass
class Findings:
    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    no_ops: set[str] = field(default_factory=set)

    def problem(
        self, declared: DeclaredTask, code: str, message: str, *, error: bool = True
    ) -> None:
        severity: Literal["error", "warning"] = "error" if error else "warning"
        self.diagnostics.append(diagnostic_at(declared, code, message, severity=severity))

    def refused(self, declared: DeclaredTask, refusals: Sequence[caps.Refusal | None]) -> bool:
        """Record the first refusal as an error; True when there was one."""
        for refusal in refusals:
            if refusal is not None:
                self.problem(declared, refusal.code, f"{declared.address}: {refusal.message}")
                return True
        return False


@dataclass(frozen=True)
class TaskView:
    """One declared task with everything known about it."""

    declared: DeclaredTask
    app: AppConfig
    live: LiveTask | None
    binding: TaskBinding | None
    #: The body this task went out with: as recorded, else as declared (adopted tasks).
    sent_body: dict[str, Any] | None

    @property
    def address(self) -> str:
        return self.declared.address

    @property
    def audience_type(self) -> str:
        return caps.audience_type_of(self.declared.task.spec.push, self.live)


def live_of(task: TaskView) -> LiveTask:
    if task.live is None:  # _plan_task only dispatches tasks with a live view
        raise ValueError(f"{task.address} has no live view")
    return task.live


def tpns_zone(world: PlanningWorld) -> timezone:
    return parse_utc_offset(world.utc_offset)


def live_view(live: LiveTask | None, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
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


def new_push_view(
    world: PlanningWorld, declared: DeclaredTask, body: dict[str, Any]
) -> dict[str, Any]:
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


#: What a new push (create, override, replace) is compared on: its content, not the identity,
#: status and date of the task it succeeds, which belong to a different TPNS task.
CONTENT_KEYS = ("title", "content", "push")


def comparable(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if old is None or new is None or new.get("push_id") is not None:
        return old, new
    return (
        {k: v for k, v in old.items() if k in CONTENT_KEYS},
        {k: v for k, v in new.items() if k in CONTENT_KEYS},
    )


def build_change(
    task: TaskView,
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
    old = None if from_nothing else live_view(task.live, task.sent_body)
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
        diff=diff(*comparable(old, after)),
        reversible=reversible,
        audience=audience or live_audience(task),
        deadline=deadline,
        warnings=warnings,
    )


def status_change(
    task: TaskView,
    action: Action,
    path: str,
    outcome: LiveStatus,
    *,
    reason: str,
    deadline: bool = False,
    warnings: tuple[str, ...] = (),
) -> Change:
    """A stop, recall or cancel: one call on the push id, the status moves to `outcome`."""
    live = live_of(task)
    after = {**(live_view(live, task.sent_body) or {}), "status": outcome.value}
    return build_change(
        task,
        action,
        reason=reason,
        after=after,
        api_calls=(ApiCall(path=path, body={"pushId": live.push_id}),),
        deadline=live.date if deadline else None,
        warnings=warnings,
    )


def live_audience(task: TaskView) -> str:
    push = task.declared.task.spec.push
    if push:
        return audience_of(push)
    live = task.live
    return f"{live.push_type} (as TPNS reports it)" if live is not None else ""


def send_time_refused(world: PlanningWorld, declared: DeclaredTask, findings: Findings) -> bool:
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
