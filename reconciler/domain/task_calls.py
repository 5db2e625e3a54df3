"""What became of a stop, recall or cancel whose answer was never recorded.

A run that dies after such a call left leaves its write-ahead record open. The next run judges
it from the task's live status (pure: refresh and apply read, the engine writes):

| live status of the call's push | verdict |
|---|---|
| where the call leaves a task (ALREADY_THERE: stopped, recalled, cancelled) | done |
| any other: the call did not take effect (still delivering or scheduled) | not done |
| not readable (gone from TPNS's one-month record, or not read) | unknown: stays open |

"Done" is also what apply concludes when TPNS refuses a call on a task already there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from reconciler.domain.manifest.models import DeclaredTask
from reconciler.domain.manifest.validate import diagnostic_at
from reconciler.domain.plan import Diagnostic
from reconciler.domain.planning_context import CANCEL_PATH, RECALL_PATH, STOP_PATH
from reconciler.records import LiveStatus, LiveTask, StateSnapshot, TaskCall

__all__ = [
    "ALREADY_THERE",
    "CANCEL_PATH",
    "RECALL_PATH",
    "STOP_PATH",
    "TARGET_STATUS",
    "CallVerdict",
    "Settlement",
    "call_label",
    "next_step",
    "open_call_warnings",
    "settle",
]

#: The status each call leaves a task in (reference, status transitions).
TARGET_STATUS: dict[str, LiveStatus] = {
    STOP_PATH: LiveStatus.DELETED_PUSH_MSG,
    RECALL_PATH: LiveStatus.REVOKED,
    CANCEL_PATH: LiveStatus.CANCELED,
}
#: Statuses that count as "already there" for each call: its purpose holds.
ALREADY_THERE: dict[str, frozenset[LiveStatus]] = {
    STOP_PATH: frozenset({LiveStatus.DELETED_PUSH_MSG, LiveStatus.REVOKED, LiveStatus.CANCELED}),
    RECALL_PATH: frozenset({LiveStatus.REVOKED}),
    CANCEL_PATH: frozenset({LiveStatus.CANCELED}),
}


class CallVerdict(StrEnum):
    DONE = "done"
    NOT_DONE = "not done"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Settlement:
    call: TaskCall
    verdict: CallVerdict
    #: The live status the verdict rests on (None when unreadable).
    status: LiveStatus | None = None

    @property
    def settled(self) -> bool:
        return self.verdict is not CallVerdict.UNKNOWN

    @property
    def outcome(self) -> str:
        """What the closed record and its audit outcome say."""
        if self.status is None:
            return "unknown"
        return (
            f"{self.verdict.value} (found at next run: push {self.call.push_id} is {self.status})"
        )


def settle(call: TaskCall, live: LiveTask | None) -> Settlement:
    """The verdict on an open call, from a live read of its push (None: none could be made)."""
    if live is None or live.push_id != call.push_id or live.raw.get("source") == "state":
        # A status state recorded is no evidence of what TPNS did with the call.
        return Settlement(call, CallVerdict.UNKNOWN)
    done = live.status in ALREADY_THERE.get(call.path, frozenset())
    return Settlement(call, CallVerdict.DONE if done else CallVerdict.NOT_DONE, live.status)


def call_label(call: TaskCall) -> str:
    return (
        f"the {call.action} of {call.address} (POST {call.path}, push {call.push_id}, "
        f"run {call.run_id})"
    )


def next_step(call: TaskCall) -> str:
    return (
        f"check push {call.push_id} in the TPNS console, then say what happened: "
        f"`pushctl state resolve {call.address} --done` or `--not-done`"
    )


def open_call_warnings(
    state: StateSnapshot, live: Mapping[str, LiveTask], desired: Mapping[str, DeclaredTask]
) -> list[Diagnostic]:
    """A `call.open` warning per open call, saying what apply will record for it."""
    warnings: list[Diagnostic] = []
    for call in sorted(state.open_calls, key=lambda c: (c.address, c.call_id)):
        found = settle(call, live.get(call.address))
        if found.settled:
            will = f"TPNS shows it {found.status}: apply records the call as {found.verdict}"
        else:
            will = (
                "this plan has no live read of that push; apply reads it and records the "
                f"outcome, and leaves the call open if TPNS cannot show it ({next_step(call)})"
            )
        message = f"{call_label(call)} left with no recorded answer; {will}"
        declared = desired.get(call.address)
        if declared is not None:
            warnings.append(diagnostic_at(declared, "call.open", message, severity="warning"))
        else:
            warnings.append(
                Diagnostic(
                    severity="warning", code="call.open", address=call.address, message=message
                )
            )
    return warnings
