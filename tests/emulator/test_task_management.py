"""Status over time; stop / revoke / cancel preconditions (reference 6.3, section 10 items 4-7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reconciler.emulator import AppSpec, EmulatorCore, EmulatorSettings, ManualClock

from .conftest import ANDROID, IOS, START, Tpns, call_core, notify
from .test_push_app import wall

STOP = "/v3/push/stop_push_msg"
REVOKE = "/v3/push/revoke_push_msg"
CANCEL = "/v3/push/cancel_timing_task"


async def test_immediate_task_moves_from_started_to_finished(
    tpns: Tpns, clock: ManualClock
) -> None:
    push_id = (await tpns.push(notify()))["push_id"]
    assert (await tpns.record(push_id))["status"] == "PUSH_STARTED"
    clock.advance(59)
    assert (await tpns.record(push_id))["status"] == "PUSH_STARTED"
    clock.advance(1)
    assert (await tpns.record(push_id))["status"] == "PUSH_FINISHED"


async def test_init_phase_is_configurable(clock: ManualClock) -> None:
    core = EmulatorCore(
        clock=clock, settings=EmulatorSettings(init_seconds=5, task_delivery_seconds=10)
    )
    core.add_app(ANDROID)
    push_id = core.seed_task(ANDROID.access_id, notify())
    statuses = []
    for step in (0, 5, 10):
        clock.advance(step)
        statuses.append(core.tasks()[0]["status"])
    assert push_id == core.tasks()[0]["pushId"]
    assert statuses == ["PUSH_INIT", "PUSH_STARTED", "PUSH_FINISHED"]


async def test_scheduled_task_waits_then_delivers(tpns: Tpns, clock: ManualClock) -> None:
    push_id = (await tpns.push(notify("tag", send_time=wall(3600))))["push_id"]
    assert (await tpns.record(push_id))["status"] == "PUSH_WAIT"
    clock.advance(3599)
    assert (await tpns.record(push_id))["status"] == "PUSH_WAIT"
    clock.advance(1)
    assert (await tpns.record(push_id))["status"] == "PUSH_STARTED"
    clock.advance(60)
    assert (await tpns.record(push_id))["status"] == "PUSH_FINISHED"


@pytest.mark.parametrize("key", ["pushId", "pushid", "push_id"])
@pytest.mark.parametrize("as_int", [False, True])
async def test_cancel_scheduled_task_with_any_id_spelling(
    tpns: Tpns, key: str, as_int: bool
) -> None:
    push_id = (await tpns.push(notify("tag", send_time=wall(3600))))["push_id"]
    reply = await tpns.post(CANCEL, {key: int(push_id) if as_int else push_id, "seq": 3})
    assert reply == {"seq": 3, "ret_code": 0, "err_msg": "NO_ERROR"}
    assert (await tpns.record(push_id))["status"] == "PUSH_CANCELED"


async def test_strict_key_mode_accepts_only_pushId(clock: ManualClock) -> None:
    core = EmulatorCore(clock=clock, settings=EmulatorSettings(strict_push_id_key=True))
    core.add_app(ANDROID)
    push_id = core.seed_task(ANDROID.access_id, notify(send_time=wall(3600)))
    assert call_core(core, CANCEL, {"pushid": push_id}) == 1008002
    assert call_core(core, CANCEL, {"pushId": push_id}) == 0


async def test_cancel_refusals(tpns: Tpns, clock: ManualClock) -> None:
    started = (await tpns.push(notify()))["push_id"]
    assert (await tpns.post(CANCEL, {"pushId": started}))["ret_code"] == 1008007
    token = (await tpns.push(notify("token")))["push_id"]
    assert (await tpns.post(CANCEL, {"pushId": token}))["ret_code"] == 1008007
    clock.advance(1)
    scheduled = (await tpns.push(notify("tag", send_time=wall(120))))["push_id"]
    clock.advance(120)
    assert (await tpns.post(CANCEL, {"pushId": scheduled}))["ret_code"] == 1008007
    assert (await tpns.record(scheduled))["status"] == "PUSH_STARTED"


async def test_stop_while_delivering_and_within_offline_window(
    tpns: Tpns, clock: ManualClock
) -> None:
    delivering = (await tpns.push(notify()))["push_id"]
    reply = await tpns.post(STOP, {"pushid": delivering})
    assert reply == {"seq": 0, "ret_code": 0, "err_msg": "NO_ERROR"}
    assert (await tpns.record(delivering))["status"] == "PUSH_DELETED_PUSH_MSG"
    clock.advance(1)
    finished = (await tpns.push(notify("tag", expire_time=800)))["push_id"]
    clock.advance(700)
    assert (await tpns.record(finished))["status"] == "PUSH_FINISHED"
    assert (await tpns.post(STOP, {"pushId": finished}))["ret_code"] == 0
    clock.advance(1)
    package = await tpns.package("package_account_push", expire_time=800)
    expired = (await tpns.push(package))["push_id"]
    clock.advance(800)
    assert (await tpns.post(STOP, {"pushId": expired}))["ret_code"] == 1008007
    assert (await tpns.record(expired))["status"] == "PUSH_FINISHED"


async def test_stop_refusals(tpns: Tpns) -> None:
    waiting = (await tpns.push(notify("tag", send_time=wall(600))))["push_id"]
    assert (await tpns.post(STOP, {"pushId": waiting}))["ret_code"] == 1008007
    for audience in ("token", "token_list", "account", "package_token_push"):
        body = await tpns.package(audience) if audience.startswith("package_") else notify(audience)
        push_id = (await tpns.push(body))["push_id"]
        assert (await tpns.post(STOP, {"pushId": push_id}))["ret_code"] == 1008007, audience
    account_list = (await tpns.push(notify("account_list")))["push_id"]
    assert (await tpns.post(STOP, {"pushId": account_list}))["ret_code"] == 0
    assert (await tpns.post(STOP, {"pushId": account_list}))[
        "ret_code"
    ] == 1008007  # already stopped
    ios_task = (await tpns.push(notify("account_list", environment="dev"), IOS))["push_id"]
    assert (await tpns.post(STOP, {"pushId": ios_task}, IOS))["ret_code"] == 1008007


async def test_revoke_is_offline_unless_the_app_enables_recall(
    tpns: Tpns, core: EmulatorCore
) -> None:
    push_id = (await tpns.push(notify()))["push_id"]
    assert (await tpns.post(REVOKE, {"pushId": push_id}))["ret_code"] == 1008007
    core.add_app(AppSpec(ANDROID.access_id, ANDROID.secret, "android", recall_enabled=True))
    assert (await tpns.post(REVOKE, {"pushId": push_id}))["ret_code"] == 0
    assert (await tpns.record(push_id))["status"] == "PUSH_REVOKED"
    token = (await tpns.push(notify("token")))["push_id"]
    assert (await tpns.post(REVOKE, {"pushId": token}))["ret_code"] == 1008007


async def test_unknown_missing_and_foreign_ids(tpns: Tpns, core: EmulatorCore) -> None:
    for path in (STOP, REVOKE, CANCEL):
        assert (await tpns.post(path, {"pushId": "999"}))["ret_code"] == 1008015
        assert (await tpns.post(path, {}))["ret_code"] == 1008002
        assert (await tpns.post(path, {"pushId": "abc"}))["ret_code"] == 1008007
    ios_id = core.seed_task(IOS.access_id, notify(environment="dev", send_time=wall(600)))
    assert (await tpns.post(CANCEL, {"pushId": ios_id}))["ret_code"] == 1008015  # other app
    assert (await tpns.post(CANCEL, {"pushId": ios_id}, IOS))["ret_code"] == 0  # iOS may cancel


def test_refusal_codes_are_configurable(clock: ManualClock) -> None:
    codes = {**EmulatorSettings().refusal_codes, "cancel_state": 10010012}
    core = EmulatorCore(clock=clock, settings=EmulatorSettings(refusal_codes=codes))
    core.add_app(ANDROID)
    push_id = core.seed_task(ANDROID.access_id, notify())
    assert call_core(core, CANCEL, {"pushId": push_id}) == 10010012
    with pytest.raises(ValueError, match="refusal_codes lacks"):
        EmulatorSettings(refusal_codes={"stop_state": 1})


def test_seeded_statuses_are_pinned(core: EmulatorCore, clock: ManualClock) -> None:
    failed = core.seed_task(ANDROID.access_id, notify(), status="PUSH_FAILED")
    deleted = core.seed_task(ANDROID.access_id, notify("tag"), status="PUSH_DELETED")
    clock.advance(3600)
    statuses = {t["pushId"]: t["status"] for t in core.tasks(ANDROID.access_id)}
    assert statuses == {failed: "PUSH_FAILED", deleted: "PUSH_DELETED"}
    with pytest.raises(ValueError, match="status must be one of"):
        core.seed_task(ANDROID.access_id, notify(), status="DONE")
    with pytest.raises(ValueError, match="unknown app"):
        core.seed_task("1", notify())
    with pytest.raises(ValueError, match="1008002"):
        core.seed_task(ANDROID.access_id, {"audience_type": "all"})
    with pytest.raises(ValueError, match="UTC offset"):
        core.seed_task(ANDROID.access_id, notify(), created_at=START.replace(tzinfo=None))


def test_seeded_task_can_be_back_dated(core: EmulatorCore) -> None:
    push_id = core.seed_task(ANDROID.access_id, notify(), created_at=START - timedelta(days=2))
    task = core.tasks()[0]
    assert task["pushId"] == push_id
    assert task["date"] == (START - timedelta(days=2) + timedelta(hours=8)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert task["status"] == "PUSH_FINISHED"
    assert task["seeded"] is True
