"""Stale plans are refused before any call; "already there" is success; partial failure."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.domain.plan import Action
from reconciler.errors import StalePlan
from reconciler.records import LiveStatus

from .conftest import ANDROID, PUSH_PATH, Harness, push_task

TOMORROW = "2026-11-22T09:00:00+08:00"
STOP_PATH = "/v3/push/stop_push_msg"
CANCEL_PATH = "/v3/push/cancel_timing_task"


async def bound(harness: Harness, name: str, **fields: Any) -> str:
    harness.write(name, push_task(name, **fields))
    _, report = await harness.plan_and_apply()
    assert not report.failed
    binding = harness.store.get_binding(f"{ANDROID}/{name}")
    assert binding is not None
    return binding.push_id


async def test_plan_refused_when_the_state_serial_moved(harness: Harness) -> None:
    await bound(harness, "flash")
    harness.write("flash", push_task("flash", state="stopped"))
    plan = await harness.plan()
    harness.store.bump_serial()  # another apply ran in between
    calls = harness.ledger()
    with pytest.raises(StalePlan, match="serial"):
        await harness.apply(plan)
    assert harness.ledger() == calls


async def test_plan_refused_after_its_deadline(harness: Harness) -> None:
    await bound(harness, "promo", send_time=TOMORROW)
    harness.write("promo", push_task("promo", state="cancelled", send_time=TOMORROW))
    plan = await harness.plan()
    assert [c.action for c in plan.changes] == [Action.CANCEL]
    harness.advance(25 * 3600)  # past the send time: the cancel can no longer happen
    calls = harness.ledger()
    with pytest.raises(StalePlan, match="expired"):
        await harness.apply(plan)
    assert harness.ledger() == calls


async def test_plan_refused_when_live_status_changed_out_of_band(harness: Harness) -> None:
    push_id = await bound(harness, "flash")
    harness.write("flash", push_task("flash", state="stopped"))
    plan = await harness.plan()
    assert [c.action for c in plan.changes] == [Action.STOP]
    await harness.clients[ANDROID].stop_push_msg(push_id)  # someone used the console
    calls = harness.ledger()
    with pytest.raises(StalePlan, match="changed since planning") as caught:
        await harness.apply(plan)
    assert "PUSH_DELETED_PUSH_MSG" in str(caught.value)
    assert harness.ledger() == calls
    assert (await harness.plan()).is_empty


@pytest.mark.parametrize(
    ("desired", "path", "status"),
    [
        ("stopped", STOP_PATH, LiveStatus.DELETED_PUSH_MSG),
        ("cancelled", CANCEL_PATH, LiveStatus.CANCELED),
    ],
)
async def test_task_call_refused_because_already_there_is_success(
    harness: Harness, desired: str, path: str, status: LiveStatus
) -> None:
    send_time = TOMORROW if desired == "cancelled" else None
    push_id = await bound(harness, "flash", send_time=send_time)
    harness.write("flash", push_task("flash", state=desired, send_time=send_time))
    plan = await harness.plan()
    client = harness.clients[ANDROID]
    out_of_band = client.stop_push_msg if desired == "stopped" else client.cancel_timing_task
    await out_of_band(push_id)
    # Without the pre-flight re-read, the call itself meets the task in its target state.
    report = await harness.apply(plan, reread=False)
    assert not report.failed
    assert report.outcomes[0].detail == f"already {status.value}"
    refused = harness.ledger(path)[-1]
    assert refused["ret_code"] == 1008007
    binding = harness.store.get_binding(f"{ANDROID}/flash")
    assert binding is not None
    assert binding.last_status is status
    assert (await harness.plan()).is_empty


async def test_partial_failure_records_what_succeeded(harness: Harness) -> None:
    short = ["a-flash", "b-flash", "c-flash"]
    names = [f"{ANDROID}/{n}" for n in short]
    for name in short:
        harness.write(name, push_task(name))
    _, report = await harness.plan_and_apply()
    assert not report.failed
    for name in short:
        harness.write(name, push_task(name, state="stopped"))
    # The first stop call to arrive fails (the changes run concurrently: any one of them).
    harness.core.set_faults(
        [{"path": STOP_PATH, "kind": "ret_code", "ret_code": 1008001, "count": 1}]
    )
    plan, report = await harness.plan_and_apply()
    assert [c.action for c in plan.changes] == [Action.STOP] * 3
    [failed] = report.failed
    assert "1008001" in failed.detail
    rest = [a for a in names if a != failed.address]
    assert sorted(o.address for o in report.succeeded) == rest
    for address in rest:
        binding = harness.store.get_binding(address)
        assert binding is not None
        assert binding.last_status is LiveStatus.DELETED_PUSH_MSG
    left = await harness.plan()
    assert [(c.address, c.action) for c in left.changes] == [(failed.address, Action.STOP)]
    report = await harness.apply(left)
    assert not report.failed
    assert (await harness.plan()).is_empty


async def test_replace_whose_push_fails_after_the_cancel_converges(harness: Harness) -> None:
    old = await bound(harness, "promo", send_time=TOMORROW)
    harness.write("promo", push_task("promo", send_time=TOMORROW, content="New link inside."))
    harness.core.set_faults(
        [{"path": PUSH_PATH, "kind": "ret_code", "ret_code": 1008001, "count": 1}]
    )
    plan, report = await harness.plan_and_apply()
    assert [c.action for c in plan.changes] == [Action.REPLACE]
    assert len(report.failed) == 1
    assert harness.task(old)["status"] == LiveStatus.CANCELED.value
    left = await harness.plan()
    assert left.applyable, [d.message for d in left.diagnostics]
    assert [c.action for c in left.changes] == [Action.CREATE]
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert (await harness.plan()).is_empty
    assert len(harness.pushes_titled("promo")) == 2  # the old one and its replacement


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_5xx", "when": "after"},
        {"kind": "drop", "when": "after"},
        {"kind": "ret_code", "ret_code": 1008004, "when": "after"},
    ],
)
async def test_stop_whose_answer_is_lost_is_confirmed_by_reading_back(
    harness: Harness, fault: dict[str, Any]
) -> None:
    push_id = await bound(harness, "flash")
    harness.write("flash", push_task("flash", state="stopped"))
    harness.core.set_faults([{"path": STOP_PATH, "count": 1, **fault}])
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert harness.task(push_id)["status"] == LiveStatus.DELETED_PUSH_MSG.value
    binding = harness.store.get_binding(f"{ANDROID}/flash")
    assert binding is not None
    assert binding.last_status is LiveStatus.DELETED_PUSH_MSG
    assert (await harness.plan()).is_empty
