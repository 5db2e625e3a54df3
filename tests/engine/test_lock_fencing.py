"""The fence before every mutating TPNS call, and the test-only crash points around it."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from reconciler.engine.crash_points import CrashPlan, audit_appender, crash_plan
from reconciler.engine.fencing import FencedClient
from reconciler.errors import LockLost
from reconciler.records import LiveTask


@dataclass
class Accepted:
    push_id: str


@dataclass
class RecordingClient:
    """Counts the calls that reach it; pushes wait for `gate` to be answered."""

    calls: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def push_app(self, body: dict[str, Any], *, on_send: Any = None) -> Accepted:
        # Like TpnsClient: broadcast pushes one at a time; on_send right before each leaves.
        if body.get("audience_type") in ("all", "tag"):
            async with self.turn:
                return await self._send(on_send)
        return await self._send(on_send)

    async def _send(self, on_send: Any) -> Accepted:
        if on_send is not None:
            on_send()
        self.calls.append("push")
        await self.gate.wait()
        return Accepted(push_id=str(len(self.calls)))

    # Like TpnsClient: on_send right before the request leaves.
    async def stop_push_msg(self, push_id: str, *, on_send: Any = None) -> None:
        self._leave(on_send, f"stop {push_id}")

    async def revoke_push_msg(self, push_id: str, *, on_send: Any = None) -> None:
        self._leave(on_send, f"revoke {push_id}")

    async def cancel_timing_task(self, push_id: str, *, on_send: Any = None) -> None:
        self._leave(on_send, f"cancel {push_id}")

    def _leave(self, on_send: Any, call: str) -> None:
        if on_send is not None:
            on_send()
        self.calls.append(call)

    async def get_push_record(self, push_id: str) -> LiveTask:
        raise AssertionError("not read in these tests")

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]:
        self.calls.append("list")
        return []


class Lease:
    def __init__(self) -> None:
        self.checks = 0
        self.lost = False

    def check(self) -> None:
        self.checks += 1
        if self.lost:
            raise LockLost("the state lock of app shop-android was taken from this run")


async def test_every_mutating_call_checks_the_lease_first_and_a_lost_lock_makes_none() -> None:
    inner, lease = RecordingClient(), Lease()
    fenced = FencedClient(inner, lease.check)
    inner.gate.set()

    await fenced.stop_push_msg("1")
    await fenced.revoke_push_msg("2")
    await fenced.cancel_timing_task("3")
    await fenced.push_app({"audience_type": "token"})
    await fenced.list_push_records(start_date=date(2026, 1, 1), end_date=date(2026, 1, 2))
    assert lease.checks == 4  # reads are not fenced
    lease.lost = True
    for call in (
        fenced.stop_push_msg("1"),
        fenced.revoke_push_msg("2"),
        fenced.cancel_timing_task("3"),
        fenced.push_app({"audience_type": "all"}),
    ):
        with pytest.raises(LockLost):
            await call

    assert inner.calls == ["stop 1", "revoke 2", "cancel 3", "push", "list"]


async def test_broadcast_pushes_are_checked_when_their_turn_comes() -> None:
    inner, lease = RecordingClient(), Lease()
    fenced = FencedClient(inner, lease.check)
    first = asyncio.create_task(fenced.push_app({"audience_type": "all"}))
    second = asyncio.create_task(fenced.push_app({"audience_type": "tag"}))
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert (lease.checks, inner.calls) == (1, ["push"])  # the second waits for its turn
    lease.lost = True  # ... and the lock is lost while the first is in flight
    inner.gate.set()
    assert (await first).push_id == "1"
    with pytest.raises(LockLost):
        await second
    assert inner.calls == ["push"]


def test_crash_plan_reads_point_count_and_signal() -> None:
    assert crash_plan({}) is None
    plan = crash_plan({"PUSHCTL_TEST_CRASH_AT": "after-send:2:term"})
    assert plan == CrashPlan(point="after-send", nth=2, signum=signal.SIGTERM)
    assert crash_plan({"PUSHCTL_TEST_CRASH_AT": "after-intent"}) == CrashPlan(
        point="after-intent", nth=1, signum=signal.SIGKILL
    )
    with pytest.raises(ValueError, match="PUSHCTL_TEST_CRASH_AT"):
        crash_plan({"PUSHCTL_TEST_CRASH_AT": "during-lunch"})


def test_crash_plan_fires_on_the_nth_passage_only(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    monkeypatch.setattr("reconciler.engine.crash_points.os.kill", lambda pid, sig: sent.append(sig))
    plan = CrashPlan(point="after-send", nth=2, signum=signal.SIGTERM)
    for point in ("after-intent", "after-send", "after-outcome", "after-send", "after-send"):
        plan.passing(point)
    assert sent == [signal.SIGTERM]


def test_without_a_crash_plan_the_audit_append_is_untouched() -> None:
    def append(entry: Any) -> object:
        return entry

    assert audit_appender(append, None) is append
