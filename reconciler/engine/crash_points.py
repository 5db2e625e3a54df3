"""A test-only hook that kills apply at a chosen action boundary, to prove crash safety.

`PUSHCTL_TEST_CRASH_AT=<point>[:<n>[:<signal>]]` makes the n-th (default first) passage
through `point` send `signal` (KILL, TERM or INT; default KILL) to this very process. The
points are the boundaries of every mutating call, whatever the action:

- `before-intent`: nothing about the call is recorded yet;
- `after-intent`: the intent is committed, the request not yet sent;
- `after-send`: TPNS answered, nothing about the answer is recorded yet;
- `after-outcome`: the outcome is recorded.

The variable is read here and nowhere else. It exists for the crash-matrix tests; nobody
should set it in real use.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.engine.ports import ApplyStore
from reconciler.records import Intent, StateSnapshot, TaskBinding, TaskCall
from reconciler.state.audit import AuditEntry

ENV_VAR = "PUSHCTL_TEST_CRASH_AT"
POINTS = ("before-intent", "after-intent", "after-send", "after-outcome")
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}


@dataclass
class CrashPlan:
    point: str
    nth: int
    signum: int
    seen: int = 0

    def passing(self, point: str) -> None:
        """Called at each boundary: signal this process on the chosen passage."""
        if point != self.point:
            return
        self.seen += 1
        if self.seen == self.nth:
            os.kill(os.getpid(), self.signum)


def crash_plan(env: Mapping[str, str]) -> CrashPlan | None:
    """The crash the environment asks for, or None (always, outside tests)."""
    text = env.get(ENV_VAR, "")
    if not text:
        return None
    point, _, rest = text.partition(":")
    nth, _, name = rest.partition(":")
    if point not in POINTS or name.upper() not in ("", *SIGNALS):
        raise ValueError(f"{ENV_VAR}={text!r}: write <point>[:<n>[:KILL|TERM|INT]]")
    return CrashPlan(point=point, nth=int(nth or 1), signum=SIGNALS[name.upper() or "KILL"])


def crash_plan_from_environment() -> CrashPlan | None:
    return crash_plan(os.environ)


def in_run_outcome(entry: AuditEntry) -> bool:
    """An outcome written when the call's answer came, not when a later run settled it."""
    request = entry.what.request
    return entry.kind == "outcome" and "intent_id" not in request and "resolved_by" not in request


def audit_appender(
    append: Callable[[AuditEntry], object], plan: CrashPlan | None
) -> Callable[[AuditEntry], object]:
    """`append` with the boundary a create's outcome record marks (a stop's, revoke's or
    cancel's outcome is written with its closing record, see CrashingStore)."""
    if plan is None:
        return append

    def append_at_boundaries(entry: AuditEntry) -> object:
        stored = append(entry)
        if in_run_outcome(entry):
            plan.passing("after-outcome")
        return stored

    return append_at_boundaries


class CrashingStore:
    """The apply store, with the boundaries its write-ahead records mark: `before-intent` of
    every call, and `after-outcome` of a stop, revoke or cancel."""

    def __init__(self, store: ApplyStore, plan: CrashPlan) -> None:
        self._store = store
        self._plan = plan

    def open_intent(self, intent: Intent) -> None:
        self._plan.passing("before-intent")
        self._store.open_intent(intent)

    def open_call(self, call: TaskCall, *, record: AuditEntry) -> None:
        self._plan.passing("before-intent")
        self._store.open_call(call, record=record)

    def close_call(self, call_id: str, *, outcome: str, record: AuditEntry) -> None:
        self._store.close_call(call_id, outcome=outcome, record=record)
        if in_run_outcome(record):
            self._plan.passing("after-outcome")

    def open_calls(self, app: str | None = None) -> list[TaskCall]:
        return self._store.open_calls(app)

    def snapshot(self) -> StateSnapshot:
        return self._store.snapshot()

    def bump_serial(self, apps: Sequence[str] = ()) -> int:
        return self._store.bump_serial(apps)

    def get_binding(self, address: str) -> TaskBinding | None:
        return self._store.get_binding(address)

    def put_binding(self, binding: TaskBinding) -> None:
        self._store.put_binding(binding)

    def remove_binding(self, address: str) -> None:
        self._store.remove_binding(address)

    def forget_binding(self, address: str) -> TaskBinding | None:
        return self._store.forget_binding(address)

    def restore_binding(self, address: str, push_id: str) -> TaskBinding | None:
        return self._store.restore_binding(address, push_id)

    def hold_intent(self, intent_id: str, *, until: datetime) -> Intent:
        return self._store.hold_intent(intent_id, until=until)

    def close_intent(self, intent_id: str, *, push_id: str | None, outcome: str) -> None:
        self._store.close_intent(intent_id, push_id=push_id, outcome=outcome)

    def open_intents(self, app: str | None = None) -> list[Intent]:
        return self._store.open_intents(app)
