"""The proving ground: a seeded state machine that attacks plan and apply and checks the promises.

Hypothesis drives manifest edits (new tasks, stop, cancel, delete, restore), clock moves,
one-shot faults before and after TPNS commits, a kill at any client call of an apply (the
process dies: nothing after that point runs), and lost state (a fresh store, as on a new CI
runner). After every step: no push was created twice, the audit chain verifies, and every
request that reached TPNS has its write-ahead record (a push's intent, a stop's or cancel's
call record) in the state it was made with. After every apply that ran to its end, the records
earlier runs left open are closed, each with an outcome record in the audit chain. At the end
the faults stop and, within three plan-and-apply runs, a fresh plan is empty with no
diagnostics, the live statuses are the declared ones, and every call has an intent and an
outcome.

Bounded and derandomized in `make test`; `PUSHCTL_SOAK=1` (`make soak`) runs many more.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from reconciler.emulator import AppSpec, EmulatorCore, ManualClock
from reconciler.state import open_store

from .conftest import ACCESS_IDS, ANDROID, IOS, PUSH_PATH, SECRETS, START, Harness, push_task

T = TypeVar("T")
SOAK = bool(os.environ.get("PUSHCTL_SOAK"))
SEND_TIME = "2026-12-15T09:00:00+08:00"  # weeks after START: clock moves never reach it
FAULT_KINDS = [
    {"kind": "http_5xx", "when": "before"},
    {"kind": "http_5xx", "when": "after"},
    {"kind": "drop", "when": "after"},
    {"kind": "ret_code", "ret_code": 1008004, "when": "before"},
    {"kind": "ret_code", "ret_code": 1008004, "when": "after"},
    {"kind": "ret_code", "ret_code": 1008028, "when": "before"},
    {"kind": "ret_code", "ret_code": 1008028, "when": "after"},
]
FAULT_PATHS = [PUSH_PATH, "/v3/push/stop_push_msg", "/v3/push/cancel_timing_task", "*"]
#: Where a kill lands: before a client call, after the request is answered, or right after the
#: write-ahead record (a push's intent, a stop's or cancel's call) is committed and before the
#: request leaves.
KILL_POINTS = ["before", "after", "intent"]
TASK_CALLS = frozenset({"stop_push_msg", "cancel_timing_task", "revoke_push_msg"})
EXPECTED = {
    "active": {"PUSH_INIT", "PUSH_WAIT", "PUSH_STARTED", "PUSH_FINISHED"},
    "stopped": {"PUSH_DELETED_PUSH_MSG", "PUSH_CANCELED", "PUSH_FINISHED"},
    "cancelled": {"PUSH_CANCELED"},
}


class Killed(BaseException):
    """The process died here: nothing after this point runs (not an error pushctl handles)."""


class KillSwitch:
    """Wraps a client; dies at the n-th call of the armed apply, at the armed point."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.armed: tuple[int, str] | None = None
        self.calls = 0
        #: Count only stops, revokes and cancels (the calls item 6 of the attack is about).
        self.task_calls_only = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in TASK_CALLS:
            return attribute

        async def call(push_id: str, *, on_send: Any = None) -> Any:
            self._maybe_die("before", task_call=True)
            result = await attribute(push_id, on_send=self._recorded(on_send))
            self._maybe_die("after", task_call=True)
            return result

        return call

    async def push_app(self, body: dict[str, Any], *, on_send: Any = None) -> Any:
        self._maybe_die("before")
        result = await self.inner.push_app(body, on_send=self._recorded(on_send, task_call=False))
        self._maybe_die("after")
        return result

    def _recorded(self, on_send: Any, *, task_call: bool = True) -> Any:
        def sent() -> None:
            if on_send is not None:
                on_send()
            self._maybe_die("intent", task_call=task_call)

        return sent

    def _maybe_die(self, point: str, *, task_call: bool = False) -> None:
        if self.armed is None or (self.task_calls_only and not task_call):
            return
        index, where = self.armed
        if point == "before":
            self.calls += 1
        if self.calls == index and where == point:
            self.armed = None
            raise Killed


class ProvingGround(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory(prefix="pushctl-proving-")
        root = Path(self.folder.name)
        core = EmulatorCore(clock=ManualClock(START))
        core.add_app(
            AppSpec(access_id=ACCESS_IDS[ANDROID], secret=SECRETS[ANDROID], platform="android")
        )
        core.add_app(AppSpec(access_id=ACCESS_IDS[IOS], secret=SECRETS[IOS], platform="ios"))
        store = open_store(f"sqlite:{root / 'state-0.db'}", base_dir=root)
        self.harness = Harness(tmp_path=root, core=core, store=store, concurrency=2)
        self.switch = KillSwitch(self.harness.clients[ANDROID])
        self.harness.clients[ANDROID] = self.switch  # type: ignore[assignment]
        self.declared: dict[str, tuple[str, bool]] = {}  # name -> (state, scheduled)
        self.removed: dict[str, tuple[str, bool]] = {}
        self.names = itertools.count()
        self.stores = itertools.count(1)
        #: Ledger entries before this index were made with a state since lost.
        self.epoch = 0
        # One loop for the whole run: the clients' pacing locks belong to the loop they met.
        self.loop = asyncio.new_event_loop()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run to the end, or to a kill: then every other task of the apply dies with it."""
        try:
            return self.loop.run_until_complete(coroutine)
        finally:
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    def teardown(self) -> None:
        try:
            self.converge()
        finally:
            self.run(self._close())
            self.loop.close()
            self.folder.cleanup()

    async def _close(self) -> None:
        for client in self.harness.clients.values():
            await client.aclose()
        self.harness.store.close()
        self.harness.core.close()

    # -- manifests ------------------------------------------------------------------------

    def write(self) -> None:
        documents = [
            push_task(name, state=state, title=f"title {name}", send_time=SEND_TIME if at else None)
            for name, (state, at) in sorted(self.declared.items())
        ]
        for path in self.harness.manifest_dir.glob("*.yaml"):
            path.unlink()
        if documents:
            self.harness.write("tasks", *documents)

    @initialize()
    def live_tasks(self) -> None:
        """Start from two live pushes, one immediate and one scheduled, so that stops and
        cancels (and kills inside them) are in reach from the first step."""
        for scheduled in (False, True):
            self.declared[f"task-{next(self.names)}"] = ("active", scheduled)
        self.write()
        self.run(self._run_once())

    @rule(scheduled=st.booleans())
    def add_task(self, scheduled: bool) -> None:
        self.declared[f"task-{next(self.names)}"] = ("active", scheduled)
        self.write()

    @precondition(lambda self: self.declared)
    @rule(data=st.data(), cancel=st.booleans())
    def stop_or_cancel(self, data: st.DataObject, cancel: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.declared)))
        _, scheduled = self.declared[name]
        # A cancel is reachable only before send_time: only scheduled tasks get one.
        self.declared[name] = ("cancelled" if cancel and scheduled else "stopped", scheduled)
        self.write()

    @precondition(lambda self: self.declared)
    @rule(data=st.data())
    def delete_manifest(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.declared)))
        self.removed[name] = self.declared.pop(name)
        self.write()

    @precondition(lambda self: self.removed)
    @rule(data=st.data())
    def restore_manifest(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.removed)))
        self.declared[name] = self.removed.pop(name)
        self.write()

    # -- the world ------------------------------------------------------------------------

    @rule(seconds=st.integers(min_value=1, max_value=3600))
    def clock_moves(self, seconds: int) -> None:
        self.harness.advance(seconds)

    @rule(fault=st.sampled_from(FAULT_KINDS), path=st.sampled_from(FAULT_PATHS))
    def fault(self, fault: dict[str, Any], path: str) -> None:
        self.harness.core.set_faults([{"path": path, "count": 1, **fault}])

    @rule()
    def lose_state(self) -> None:
        self.harness.store.close()
        root = self.harness.tmp_path
        self.harness.store = open_store(
            f"sqlite:{root / f'state-{next(self.stores)}.db'}", base_dir=root
        )
        self.epoch = len(self.harness.core.ledger())

    @rule(
        kill=st.one_of(
            st.none(),
            st.tuples(st.integers(min_value=1, max_value=4), st.sampled_from(KILL_POINTS)),
        )
    )
    def plan_and_apply(self, kill: tuple[int, str] | None) -> None:
        """One run; with `kill`, the process dies at that client call and point (if reached)."""
        self.switch.armed, self.switch.calls, self.switch.task_calls_only = kill, 0, False
        self.run(self._run_once())

    def active(self) -> list[str]:
        # From the model only: Hypothesis needs the same draws to mean the same steps.
        return sorted(name for name, (state, _) in self.declared.items() if state == "active")

    @precondition(lambda self: self.active())
    @rule(data=st.data(), cancel=st.booleans(), point=st.sampled_from(KILL_POINTS))
    def interrupt_a_stop_or_cancel(self, data: st.DataObject, cancel: bool, point: str) -> None:
        """Declare a stop or cancel, and die at `point` of the first such call the run makes."""
        name = data.draw(st.sampled_from(self.active()))
        _, scheduled = self.declared[name]
        self.declared[name] = ("cancelled" if cancel and scheduled else "stopped", scheduled)
        self.write()
        self.switch.armed, self.switch.calls, self.switch.task_calls_only = (1, point), 0, True
        self.run(self._run_once())

    async def _run_once(self) -> None:
        plan = await self.harness.plan()
        if not plan.applyable:
            return  # an error diagnostic: nothing may be sent, and nothing is
        left_open = self.open_records()
        try:
            await self.harness.apply(plan)
        except Killed:
            return
        except Exception as exc:  # a stale plan, say: refused before any call
            if not hasattr(exc, "exit_code"):
                raise
            return
        # The run read them all: what earlier runs left open now has its outcome.
        still = left_open & self.open_records()
        assert not still, f"records an apply that ran to its end left open: {still}"
        assert not self.intents_without_outcome(), self.intents_without_outcome()

    # -- promises -------------------------------------------------------------------------

    @invariant()
    def no_push_created_twice(self) -> None:
        created = collections.Counter(str(t["title"]) for t in self.harness.core.tasks())
        twice = {title: n for title, n in created.items() if n > 1}
        assert not twice, f"pushes created more than once: {twice}"

    @invariant()
    def audit_chain_verifies(self) -> None:
        verdict = self.harness.store.verify_audit()
        assert verdict.ok, verdict

    @invariant()
    def every_call_has_its_write_ahead_record(self) -> None:
        """Each request that reached TPNS with this state has a record in it: a push's intent
        (by its title), a stop's or cancel's call record (by path and push id)."""
        store = self.harness.store
        intents = [json.loads(row[3]) for row in store.export_rows()["pushctl_intents"]]
        titled = {str(i["body"]["message"]["title"]) for i in intents}
        called = {(c.path, c.push_id) for c, _ in store.task_calls()}
        for entry in self.harness.core.ledger()[self.epoch :]:
            path = entry["path"]
            if path == PUSH_PATH:
                title = str(entry["body"]["message"]["title"])
                assert title in titled, f"push {title!r} reached TPNS with no intent"
            elif path.rsplit("/", 1)[-1] in TASK_CALLS:
                call = (path, str(entry["body"]["pushId"]))
                assert call in called, f"{call} reached TPNS with no call record"

    def open_records(self) -> set[str]:
        store = self.harness.store
        return {i.intent_id for i in store.open_intents()} | {c.call_id for c in store.open_calls()}

    def intents_without_outcome(self) -> list[tuple[str | None, object]]:
        """(address, path) of each intent record in the audit chain no later outcome answers."""
        waiting: list[tuple[str | None, object]] = []
        for record in self.harness.store.audit_records():
            what = record.entry.what
            key = (what.address, what.request.get("path"))
            if record.entry.kind == "intent":
                waiting.append(key)
            elif record.entry.kind == "outcome" and key in waiting:
                waiting.remove(key)
        return waiting

    def converge(self) -> None:
        self.harness.core.set_faults([])
        self.switch.armed = None
        for _ in range(3):
            self.run(self._run_once())
        final = self.run(self.harness.plan())
        assert final.changes == (), [c.address for c in final.changes]
        assert final.diagnostics == (), [(d.code, d.message) for d in final.diagnostics]
        live = {str(t["title"]): str(t["status"]) for t in self.harness.core.tasks()}
        for name, (state, _) in self.declared.items():
            status = live.get(f"title {name}")
            if state == "active":
                assert status in EXPECTED["active"], (name, status)
            elif status is not None:
                assert status in EXPECTED[state], (name, state, status)
        self.no_push_created_twice()
        # Every call has an intent and an outcome.
        assert self.open_records() == set()
        assert self.intents_without_outcome() == []
        self.every_call_has_its_write_ahead_record()


ProvingGround.TestCase.settings = settings(
    max_examples=300 if SOAK else 25,
    stateful_step_count=30 if SOAK else 14,
    deadline=None,
    derandomize=not SOAK,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestProvingGround = ProvingGround.TestCase
