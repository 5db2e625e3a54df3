"""Apply of every action against the in-process emulator; after each, a fresh plan is empty."""

from __future__ import annotations

from typing import Any

from reconciler.domain.plan import Action, Plan
from reconciler.engine.apply import ApplyReport
from reconciler.records import LiveStatus

from .conftest import ANDROID, PUSH_PATH, Harness, push_task

TOMORROW = "2026-11-22T09:00:00+08:00"


def actions(plan: Plan) -> list[tuple[str, Action]]:
    return [(c.address, c.action) for c in plan.changes]


def assert_ok(report: ApplyReport) -> None:
    assert not report.failed, [o.detail for o in report.failed]


async def converge(harness: Harness) -> tuple[Plan, ApplyReport]:
    """Plan, apply, and check that the next plan (auto and all) is empty."""
    plan, report = await harness.plan_and_apply()
    assert_ok(report)
    after = await harness.plan()
    assert after.is_empty, actions(after)
    assert not [d for d in after.diagnostics if d.severity == "error"]
    assert (await harness.plan(refresh="all")).is_empty
    return plan, report


async def created(harness: Harness, name: str, **fields: Any) -> str:
    harness.write(name, push_task(name, **fields))
    await converge(harness)
    binding = harness.store.get_binding(f"{ANDROID}/{name}")
    assert binding is not None
    return binding.push_id


async def test_create_sends_once_and_records_the_binding(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    plan, report = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/flash", Action.CREATE)]
    [entry] = harness.ledger(PUSH_PATH)
    binding = harness.store.get_binding(f"{ANDROID}/flash")
    assert binding is not None
    assert binding.push_id == entry["push_id"] == report.outcomes[0].push_id
    assert binding.created_by_pushctl
    assert binding.body == plan.changes[0].api_calls[0].body
    assert binding.content_digest
    assert harness.store.snapshot().serial == 1
    assert harness.store.open_intents() == []


async def test_override_sends_with_the_old_collapse_id_and_collapses_it(harness: Harness) -> None:
    old = await created(harness, "teaser")
    harness.write("teaser", push_task("teaser", state="overridden", overridden_by="teaser-v2"))
    harness.write("teaser-v2", push_task("teaser-v2", title="Fixed link"))
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/teaser", Action.OVERRIDE)]
    overriding = harness.ledger(PUSH_PATH)[-1]
    assert overriding["body"]["collapse_id"] == harness.task(old)["collapseID"]
    assert harness.task(old)["status"] == LiveStatus.COLLAPSED.value
    old_binding = harness.store.get_binding(f"{ANDROID}/teaser")
    new_binding = harness.store.get_binding(f"{ANDROID}/teaser-v2")
    assert old_binding is not None
    assert old_binding.last_status is LiveStatus.COLLAPSED
    assert new_binding is not None
    assert new_binding.push_id == overriding["push_id"]


async def test_replace_cancels_the_scheduled_task_and_sends_the_new_content(
    harness: Harness,
) -> None:
    old = await created(harness, "promo", send_time=TOMORROW)
    harness.write("promo", push_task("promo", send_time=TOMORROW, content="New link inside."))
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/promo", Action.REPLACE)]
    assert harness.task(old)["status"] == LiveStatus.CANCELED.value
    binding = harness.store.get_binding(f"{ANDROID}/promo")
    assert binding is not None
    assert binding.push_id != old
    assert harness.task(binding.push_id)["content"] == "New link inside."


async def test_stop_terminates_a_delivering_task(harness: Harness) -> None:
    push_id = await created(harness, "flash")
    harness.write("flash", push_task("flash", state="stopped"))
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/flash", Action.STOP)]
    assert harness.task(push_id)["status"] == LiveStatus.DELETED_PUSH_MSG.value
    binding = harness.store.get_binding(f"{ANDROID}/flash")
    assert binding is not None
    assert binding.last_status is LiveStatus.DELETED_PUSH_MSG


async def test_recall_revokes_when_the_app_has_the_capability(harness: Harness) -> None:
    push_id = await created(harness, "flash")
    harness.write("flash", push_task("flash", state="recalled"))
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/flash", Action.RECALL)]
    assert harness.task(push_id)["status"] == LiveStatus.REVOKED.value


async def test_cancel_of_a_scheduled_task(harness: Harness) -> None:
    push_id = await created(harness, "promo", send_time=TOMORROW)
    harness.write("promo", push_task("promo", state="cancelled", send_time=TOMORROW))
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/promo", Action.CANCEL)]
    assert plan.not_after is not None
    assert harness.task(push_id)["status"] == LiveStatus.CANCELED.value


async def test_adopt_records_a_task_made_outside_pushctl(harness: Harness) -> None:
    push_id = harness.seed("made by hand")
    harness.write("hand", push_task("hand", push_id=push_id, with_push=False))
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/hand", Action.ADOPT)]
    binding = harness.store.get_binding(f"{ANDROID}/hand")
    assert binding is not None
    assert binding.push_id == push_id
    assert not binding.created_by_pushctl
    assert binding.last_status is LiveStatus.STARTED
    assert binding.date is not None
    assert binding.collapse_id == harness.task(push_id)["collapseID"]
    assert harness.ledger() == []


async def test_adopted_settled_task_is_not_read_again(harness: Harness) -> None:
    push_id = harness.seed("made by hand", status=LiveStatus.CANCELED.value)
    harness.write("hand", push_task("hand", push_id=push_id, state="cancelled", with_push=False))
    await converge(harness)
    plan = await harness.plan()
    assert plan.is_empty
    assert plan.api_usage.calls == {}


async def test_adopt_then_cancel_in_one_apply(harness: Harness) -> None:
    push_id = harness.seed("made by hand", send_time="2026-11-22 09:00:00")
    harness.write("hand", push_task("hand", push_id=push_id, state="cancelled", with_push=False))
    plan, _ = await converge(harness)
    assert sorted(a for _, a in actions(plan)) == [Action.ADOPT, Action.CANCEL]
    assert harness.task(push_id)["status"] == LiveStatus.CANCELED.value
    binding = harness.store.get_binding(f"{ANDROID}/hand")
    assert binding is not None
    assert binding.last_status is LiveStatus.CANCELED


async def test_forget_leaves_the_live_task_alone(harness: Harness) -> None:
    push_id = await created(harness, "flash")
    calls = harness.ledger()
    harness.remove("flash")
    plan, _ = await converge(harness)
    assert actions(plan) == [(f"{ANDROID}/flash", Action.FORGET)]
    assert harness.store.get_binding(f"{ANDROID}/flash") is None
    assert harness.ledger() == calls
    assert harness.task(push_id)["status"] != LiveStatus.DELETED_PUSH_MSG.value


async def test_rename_forgets_the_old_address_then_adopts_the_new_one(harness: Harness) -> None:
    push_id = await created(harness, "flash")
    harness.remove("flash")
    harness.write("flash-renamed", push_task("flash-renamed", title="flash", push_id=push_id))
    plan, _ = await converge(harness)
    assert sorted(actions(plan)) == [
        (f"{ANDROID}/flash", Action.FORGET),
        (f"{ANDROID}/flash-renamed", Action.ADOPT),
    ]
    assert harness.store.get_binding(f"{ANDROID}/flash") is None
    binding = harness.store.get_binding(f"{ANDROID}/flash-renamed")
    assert binding is not None
    assert binding.push_id == push_id
    assert len(harness.ledger()) == 1


async def test_target_of_an_overrider_brings_the_task_it_overrides(harness: Harness) -> None:
    await created(harness, "teaser")
    harness.write("other", push_task("other"))
    harness.write("teaser", push_task("teaser", state="overridden", overridden_by="teaser-v2"))
    harness.write("teaser-v2", push_task("teaser-v2", title="Fixed link"))
    plan = await harness.plan(targets=frozenset({f"{ANDROID}/teaser-v2"}))
    assert actions(plan) == [(f"{ANDROID}/teaser", Action.OVERRIDE)]
    report = await harness.apply(plan)
    assert not report.failed
    assert actions(await harness.plan()) == [(f"{ANDROID}/other", Action.CREATE)]


async def test_stops_do_not_wait_behind_paced_pushes(harness: Harness) -> None:
    stops = [f"z-stop-{n}" for n in range(3)]
    harness.write("stops", *(push_task(name) for name in stops))
    await harness.plan_and_apply()
    creates = [f"a-new-{n}" for n in range(12)]
    harness.write("stops", *(push_task(name, state="stopped") for name in stops))
    harness.write("creates", *(push_task(name) for name in creates))
    _plan, report = await harness.plan_and_apply()
    assert not report.failed
    order = [o.action for o in report.outcomes]
    assert order.count(Action.CREATE) == 12
    # Twelve tag pushes take eleven seconds of pacing; the stops are done before the second.
    last_stop = max(i for i, action in enumerate(order) if action is Action.STOP)
    assert order[: last_stop + 1].count(Action.CREATE) <= 1, order
