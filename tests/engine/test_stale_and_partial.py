"""Stale plans are refused before any call; "already there" is success; partial failure."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from reconciler.domain.plan import Action, Plan
from reconciler.engine.apply import body_digest
from reconciler.errors import StalePlan
from reconciler.records import Intent, LiveStatus

from .conftest import ANDROID, IOS, PUSH_PATH, Harness, push_task

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
    harness.store.bump_serial([ANDROID])  # another apply to this app ran in between
    calls = harness.ledger()
    with pytest.raises(StalePlan, match="serial"):
        await harness.apply(plan)
    assert harness.ledger() == calls


async def test_apply_to_an_app_makes_a_saved_plan_for_the_same_app_stale(
    harness: Harness,
) -> None:
    harness.write("one", push_task("one"))
    harness.write("two", push_task("two"))
    first = await harness.plan(targets=frozenset({f"{ANDROID}/one"}))
    second = await harness.plan(targets=frozenset({f"{ANDROID}/two"}))
    assert second.state_serials == {ANDROID: 0}
    assert not (await harness.apply(first)).failed
    calls = harness.ledger()
    with pytest.raises(StalePlan) as caught:
        await harness.apply(second)
    assert caught.value.message == f"state of app {ANDROID} moved since planning (serial 0 -> 1)"
    assert caught.value.hint == "plan is stale; run plan again"
    assert harness.ledger() == calls
    assert not (await harness.apply(await harness.plan())).failed


async def test_apply_to_one_app_leaves_a_saved_plan_for_another_app_current(
    harness: Harness,
) -> None:
    # Two CI jobs, one per app, plan side by side, then apply one after the other.
    harness.write("android-sale", push_task("android-sale"))
    harness.write("ios-sale", push_task("ios-sale", app=IOS))
    android = await harness.plan(targets=frozenset({f"{ANDROID}/android-sale"}))
    ios = await harness.plan(targets=frozenset({f"{IOS}/ios-sale"}))
    both = await harness.plan()
    assert not (await harness.apply(android)).failed
    report = await harness.apply(ios)
    assert not report.failed
    assert [o.address for o in report.succeeded] == [f"{IOS}/ios-sale"]
    snapshot = harness.store.snapshot()
    assert (snapshot.serial, snapshot.app_serials) == (2, {ANDROID: 1, IOS: 1})
    # A plan over both apps is stale once either of them moved.
    with pytest.raises(StalePlan, match=f"state of app {ANDROID} moved"):
        await harness.apply(both)
    assert (await harness.plan()).is_empty


async def test_plan_file_without_app_serials_is_held_to_the_global_serial(
    harness: Harness,
) -> None:
    harness.write("android-sale", push_task("android-sale"))
    harness.write("ios-sale", push_task("ios-sale", app=IOS))
    android = await harness.plan(targets=frozenset({f"{ANDROID}/android-sale"}))
    ios = await harness.plan(targets=frozenset({f"{IOS}/ios-sale"}))
    saved = json.loads(ios.to_json())
    del saved["state_serials"]  # written by a pushctl that kept one serial only
    old_file = Plan.from_json(json.dumps(saved))
    assert not (await harness.apply(android)).failed
    with pytest.raises(StalePlan, match=r"^state moved since planning \(serial 0 -> 1\)"):
        await harness.apply(old_file)
    assert not (await harness.apply(ios)).failed


async def test_resolving_an_interrupted_create_moves_only_its_apps_serial(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    harness.store.open_intent(
        Intent(
            intent_id=f"crashed-run:{ANDROID}/flash",
            run_id="crashed-run",
            address=f"{ANDROID}/flash",
            app=ANDROID,
            action="create",
            body_digest=body_digest(body),
            body=body,
            created_at=harness.now() - timedelta(seconds=5),
        )
    )
    harness.write("other", push_task("other"))
    plan = await harness.plan(targets=frozenset({f"{ANDROID}/other"}))
    # The one planned create is refused: only the resolution changes state.
    harness.core.set_faults(
        [{"path": PUSH_PATH, "kind": "ret_code", "ret_code": 1008001, "count": 1}]
    )
    report = await harness.apply(plan)
    assert [o.address for o in report.failed] == [f"{ANDROID}/other"]
    assert report.resolved_intents
    snapshot = harness.store.snapshot()
    assert (snapshot.serial, snapshot.app_serials) == (1, {ANDROID: 1})


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


async def test_stop_planned_on_a_delivering_task_stays_current_when_it_finished(
    harness: Harness,
) -> None:
    push_id = await bound(harness, "flash")
    assert harness.task(push_id)["status"] == "PUSH_STARTED"
    harness.write("flash", push_task("flash", state="stopped"))
    plan = await harness.plan()
    assert [c.action for c in plan.changes] == [Action.STOP]
    harness.advance(120)  # delivery ends on its own between plan and apply
    assert harness.task(push_id)["status"] == "PUSH_FINISHED"
    report = await harness.apply(plan)
    assert not report.failed
    assert harness.task(push_id)["status"] == "PUSH_DELETED_PUSH_MSG"


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
