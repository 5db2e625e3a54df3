"""Rate limits of reference section 8 / section 10 item 15, and switching them off."""

from __future__ import annotations

import pytest

from reconciler.emulator import AppSpec, EmulatorCore, EmulatorSettings, ManualClock

from .conftest import ANDROID, IOS, Tpns, call_core, notify

RECORD = "/v3/statistics/get_push_record"


async def test_broadcast_pushes_allow_one_per_second_per_app(
    tpns: Tpns, clock: ManualClock
) -> None:
    assert (await tpns.push(notify()))["ret_code"] == 0
    limited = await tpns.push(notify("tag"))
    assert limited["ret_code"] == 1008028
    assert "push_id" not in limited
    assert (await tpns.push(notify("token_list")))["ret_code"] == 0  # other audiences are free
    assert (await tpns.push(notify("tag", environment="dev"), IOS))["ret_code"] == 0  # other app
    package = await tpns.package("package_account_push")
    clock.advance(0.999)
    assert (await tpns.push(package))["ret_code"] == 1008028
    clock.advance(0.001)
    assert (await tpns.push(package))["ret_code"] == 0


async def test_same_message_to_all_once_per_hour(tpns: Tpns, clock: ManualClock) -> None:
    assert (await tpns.push(notify()))["ret_code"] == 0
    clock.advance(5)
    repeat = await tpns.push(notify())
    assert repeat["ret_code"] == 10010018
    assert (await tpns.push(notify("tag")))["ret_code"] == 0  # tags are not deduplicated
    clock.advance(5)
    other = notify(message={"title": "Sale", "content": "Another text"})
    assert (await tpns.push(other))["ret_code"] == 0
    clock.advance(3600)
    assert (await tpns.push(notify()))["ret_code"] == 0


async def test_seeded_tasks_do_not_count(tpns: Tpns, core: EmulatorCore) -> None:
    core.seed_task(ANDROID.access_id, notify())
    assert (await tpns.push(notify()))["ret_code"] == 0


async def test_statistics_allow_200_calls_per_hour(tpns: Tpns, clock: ManualClock) -> None:
    body = {"startDate": "2026-11-20", "endDate": "2026-11-20"}
    for _ in range(200):
        assert (await tpns.post(RECORD, body))["retCode"] == 0
    assert (await tpns.post(RECORD, body))["retCode"] == 1008028
    assert (await tpns.post(RECORD, body, IOS))["retCode"] == 0  # per app
    clock.advance(3599)
    assert (await tpns.post(RECORD, {"pushId": "1"}))["retCode"] == 1008028
    clock.advance(1)
    assert (await tpns.post(RECORD, body))["retCode"] == 0


@pytest.mark.parametrize(
    ("settings", "app"),
    [
        (EmulatorSettings(rate_limits=False), ANDROID),
        (
            EmulatorSettings(),
            AppSpec(ANDROID.access_id, ANDROID.secret, "android", rate_limits=False),
        ),
    ],
)
def test_limits_can_be_switched_off(
    clock: ManualClock, settings: EmulatorSettings, app: AppSpec
) -> None:
    core = EmulatorCore(clock=clock, settings=settings)
    core.add_app(app)
    assert [call_core(core, "/v3/push/app", notify()) for _ in range(3)] == [0, 0, 0]
    body = {"startDate": "2026-11-20", "endDate": "2026-11-20"}
    assert {call_core(core, RECORD, body) for _ in range(201)} == {0}


def test_limits_are_configurable(clock: ManualClock) -> None:
    settings = EmulatorSettings(broadcast_push_interval_seconds=10, statistics_calls_per_hour=2)
    core = EmulatorCore(clock=clock, settings=settings)
    core.add_app(ANDROID)
    assert call_core(core, "/v3/push/app", notify("tag")) == 0
    clock.advance(9)
    assert call_core(core, "/v3/push/app", notify("tag")) == 1008028
    body = {"startDate": "2026-11-20", "endDate": "2026-11-20"}
    assert [call_core(core, RECORD, body) for _ in range(3)] == [0, 0, 1008028]
