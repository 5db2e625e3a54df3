"""A stop, recall or cancel interrupted after it left: the next run records what became of it.

Each case kills apply (a BaseException, as a dying process stops everything after it) at a
point of one task-management call, then runs plan and apply again and reads the state journal
and the audit log: done, not done, or unreadable and left open with a warning.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reconciler.domain.task_calls import ALREADY_THERE, CallVerdict, settle
from reconciler.records import LiveStatus, LiveTask, TaskCall

from .conftest import ANDROID, START, Harness, push_task

STOP = "/v3/push/stop_push_msg"
REVOKE = "/v3/push/revoke_push_msg"
CANCEL = "/v3/push/cancel_timing_task"
LATER = "2026-11-22T09:00:00+08:00"
ADDRESS = f"{ANDROID}/promo"


class Killed(BaseException):
    """The process died here."""


class DiesAtTaskCall:
    """Wraps a client: the next stop, revoke or cancel dies `where` ("sent": after TPNS
    answered, before apply saw it; "recorded": after its record, before it left)."""

    def __init__(self, inner: Any, where: str) -> None:
        self.inner = inner
        self.where = where

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in {"stop_push_msg", "revoke_push_msg", "cancel_timing_task"}:
            return attribute

        async def call(push_id: str, *, on_send: Any = None) -> None:
            def recorded() -> None:
                if on_send is not None:
                    on_send()
                if self.where == "recorded":
                    raise Killed

            await attribute(push_id, on_send=recorded)
            raise Killed

        return call


async def interrupted(harness: Harness, state: str, where: str, **fields: Any) -> str:
    """Create the task, then declare `state` and die at `where` in the call that makes."""
    harness.write("promo", push_task("promo", **fields))
    await harness.plan_and_apply()
    binding = harness.store.get_binding(ADDRESS)
    assert binding is not None
    harness.write("promo", push_task("promo", state=state, **fields))
    plan = await harness.plan()
    real = harness.clients[ANDROID]
    harness.clients[ANDROID] = DiesAtTaskCall(real, where)  # type: ignore[assignment]
    try:
        with pytest.raises(Killed):
            await harness.apply(plan)
    finally:
        harness.clients[ANDROID] = real
    return binding.push_id


def outcomes_of(harness: Harness, path: str) -> list[tuple[str, str]]:
    return [
        (r.entry.kind, r.entry.result.err_msg if r.entry.result else "")
        for r in harness.store.audit_records(address=ADDRESS)
        if r.entry.what.request.get("path") == path
    ]


@pytest.mark.parametrize(
    ("state", "action", "path", "status", "fields"),
    [
        ("stopped", "stop", STOP, "PUSH_DELETED_PUSH_MSG", {}),
        ("recalled", "recall", REVOKE, "PUSH_REVOKED", {}),
        ("cancelled", "cancel", CANCEL, "PUSH_CANCELED", {"send_time": LATER}),
    ],
)
async def test_a_call_tpns_made_is_recorded_done_by_the_next_run(
    harness: Harness, state: str, action: str, path: str, status: str, fields: dict[str, Any]
) -> None:
    push_id = await interrupted(harness, state, "sent", **fields)
    assert harness.task(push_id)["status"] == status
    [left_open] = harness.store.open_calls()
    assert (left_open.address, left_open.path, left_open.push_id) == (ADDRESS, path, push_id)
    plan = await harness.plan()
    [warning] = plan.diagnostics
    assert warning.code == "call.open"
    assert f"TPNS shows it {status}: apply records the call as done" in warning.message

    report = await harness.apply(plan)

    found = f"done (found at next run: push {push_id} is {status})"
    assert report.resolved_calls == [
        f"{ADDRESS}: interrupted {action} of run {left_open.run_id}: {found}"
    ]
    assert harness.store.task_calls() == [(left_open, found)]
    assert outcomes_of(harness, path) == [
        ("intent", ""),
        ("outcome", f"resolved open call: {found}"),
    ]
    binding = harness.store.get_binding(ADDRESS)
    assert binding is not None
    assert binding.last_status == LiveStatus(status)
    after = await harness.plan()
    assert (after.changes, after.diagnostics) == ((), ())
    assert len(harness.ledger(path)) == 1
    assert harness.store.verify_audit().ok


async def test_a_call_that_never_left_is_recorded_not_done_and_made_again(
    harness: Harness,
) -> None:
    push_id = await interrupted(harness, "stopped", "recorded")
    assert harness.ledger(STOP) == []  # recorded, then the process died before it left
    [left_open] = harness.store.open_calls()

    report = await harness.apply(await harness.plan())

    not_done = f"not done (found at next run: push {push_id} is PUSH_STARTED)"
    assert report.resolved_calls[0].endswith(not_done)
    assert not report.failed
    [(first, first_outcome), (second, second_outcome)] = harness.store.task_calls()
    assert (first, first_outcome) == (left_open, not_done)
    assert (second.path, second_outcome) == (STOP, "done")  # the stop the plan made again
    assert [kind for kind, _ in outcomes_of(harness, STOP)] == [
        "intent",
        "outcome",
        "intent",
        "outcome",
    ]
    assert len(harness.ledger(STOP)) == 1
    assert harness.task(push_id)["status"] == "PUSH_DELETED_PUSH_MSG"
    after = await harness.plan()
    assert (after.changes, after.diagnostics) == ((), ())


async def test_a_call_whose_task_cannot_be_read_stays_open_with_a_warning(
    harness: Harness,
) -> None:
    push_id = await interrupted(harness, "stopped", "sent")
    harness.advance(timedelta(days=32).total_seconds())  # past TPNS's one-month record

    plan = await harness.plan()
    serial = harness.store.snapshot().serial
    report = await harness.apply(plan)

    [left_open] = harness.store.open_calls()
    assert left_open.push_id == push_id
    assert harness.store.snapshot().serial == serial  # nothing settled: saved plans stay current
    assert report.resolved_intents == []
    assert report.resolved_calls == [
        f"{ADDRESS}: interrupted stop of run {left_open.run_id}: still unknown, push {push_id} "
        f"cannot be read; check push {push_id} in the TPNS console, then say what happened: "
        f"`pushctl state resolve {ADDRESS} --done` or `--not-done`"
    ]
    assert [kind for kind, _ in outcomes_of(harness, STOP)] == ["intent"]
    [warning] = [d for d in (await harness.plan()).diagnostics if d.code == "call.open"]
    assert warning.severity == "warning"
    assert warning.address == ADDRESS
    assert f"`pushctl state resolve {ADDRESS} --done` or `--not-done`" in warning.message


def call(path: str) -> TaskCall:
    return TaskCall(
        call_id="run-1:a",
        run_id="run-1",
        address=ADDRESS,
        app=ANDROID,
        action="stop",
        path=path,
        push_id="42",
        created_at=START,
    )


def live(status: LiveStatus, *, push_id: str = "42", source: str = "api") -> LiveTask:
    return LiveTask(
        push_id=push_id,
        status=status,
        date=START,
        push_type="all",
        message_type="notify",
        raw={"source": source},
    )


@pytest.mark.parametrize("path", [STOP, REVOKE, CANCEL])
@pytest.mark.parametrize("status", list(LiveStatus))
def test_the_verdict_is_done_exactly_where_the_call_leaves_a_task(
    path: str, status: LiveStatus
) -> None:
    found = settle(call(path), live(status))
    expected = CallVerdict.DONE if status in ALREADY_THERE[path] else CallVerdict.NOT_DONE
    assert (found.verdict, found.status) == (expected, status)
    assert found.outcome == f"{expected.value} (found at next run: push 42 is {status.value})"


def test_the_done_statuses_are_the_ones_each_call_leaves() -> None:
    assert {
        STOP: {LiveStatus.DELETED_PUSH_MSG, LiveStatus.REVOKED, LiveStatus.CANCELED},
        REVOKE: {LiveStatus.REVOKED},
        CANCEL: {LiveStatus.CANCELED},
    } == ALREADY_THERE


@pytest.mark.parametrize(
    "seen",
    [
        None,
        live(LiveStatus.DELETED_PUSH_MSG, push_id="43"),  # another push at that address
        live(LiveStatus.DELETED_PUSH_MSG, source="state"),  # a recorded status, not a read
    ],
)
def test_no_live_read_of_the_calls_push_leaves_the_verdict_unknown(seen: LiveTask | None) -> None:
    found = settle(call(STOP), seen)
    assert (found.verdict, found.settled, found.outcome) == (CallVerdict.UNKNOWN, False, "unknown")
