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
from reconciler.records import Intent, StateSnapshot, TaskBinding
from reconciler.state.audit import AuditEntry

ENV_VAR = "PUSHCTL_TEST_CRASH_AT"
POINTS = ("before-intent", "after-intent", "after-send", "after-outcome")
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}
PUSH_PATH = "/v3/push/app"


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


def audit_appender(
    append: Callable[[AuditEntry], object], plan: CrashPlan | None
) -> Callable[[AuditEntry], object]:
    """`append` with the boundaries an audit record marks: the intent of a stop, revoke or
    cancel (a create's intent is the state's, see CrashingStore) and every call's outcome."""
    if plan is None:
        return append

    def append_at_boundaries(entry: AuditEntry) -> object:
        path = entry.what.request.get("path")
        if entry.kind == "intent" and path != PUSH_PATH:
            plan.passing("before-intent")
        stored = append(entry)
        if entry.kind == "outcome" and "intent_id" not in entry.what.request:
            plan.passing("after-outcome")
        return stored

    return append_at_boundaries


class CrashingStore:
    """The apply store, with the `before-intent` boundary of a create."""

    def __init__(self, store: ApplyStore, plan: CrashPlan) -> None:
        self._store = store
        self._plan = plan

    def open_intent(self, intent: Intent) -> None:
        self._plan.passing("before-intent")
        self._store.open_intent(intent)

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
