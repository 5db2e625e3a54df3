"""Clocks, settings validation and the configurable section-10 defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.emulator import AppSpec, EmulatorCore, EmulatorSettings, ManualClock, SystemClock

from .conftest import ANDROID, START, call_core, notify


def test_manual_clock_moves_only_forward_and_only_when_told() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    clock.advance(1.5)
    assert clock.now() == START + timedelta(seconds=1.5)
    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=UTC))
    assert clock.now().year == 2027
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="naive"):
        ManualClock(datetime(2026, 1, 1))


def test_system_clock_offset() -> None:
    clock = SystemClock()
    before = clock.now()
    clock.advance(3600)
    assert 3599 < (clock.now() - before).total_seconds() < 3660
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert abs((clock.now() - datetime(2030, 1, 1, tzinfo=UTC)).total_seconds()) < 60
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_settings_and_app_validation() -> None:
    assert EmulatorSettings(utc_offset="-05:30").zone().utcoffset(None) == -timedelta(
        hours=5, minutes=30
    )
    with pytest.raises(ValueError, match="utc_offset"):
        EmulatorSettings(utc_offset="UTC+8")
    with pytest.raises(ValueError, match="android or ios"):
        AppSpec("1", "s", "web")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        AppSpec("", "s", "android")


def test_wall_time_zone_is_configurable(clock: ManualClock) -> None:
    core = EmulatorCore(clock=clock, settings=EmulatorSettings(utc_offset="+00:00"))
    core.add_app(ANDROID)
    assert call_core(core, "/v3/push/app", notify("tag", send_time="2026-11-20 03:00:00")) == 0
    [task] = core.tasks()
    assert (task["date"], task["status"]) == ("2026-11-20 03:00:00", "PUSH_WAIT")
    assert task["sendTime"] == "2026-11-20T03:00:00+00:00"


def test_unknown_access_id_code_and_skew_are_configurable(clock: ManualClock) -> None:
    settings = EmulatorSettings(unknown_access_id_code=1008003, skew_window_seconds=5)
    core = EmulatorCore(clock=clock, settings=settings)
    assert call_core(core, "/v3/push/app", notify()) == 1008003  # ANDROID not registered
    core.add_app(ANDROID)
    clock.advance(0)
    assert call_core(core, "/v3/push/app", notify()) == 0


def test_expire_and_horizon_settings(clock: ManualClock) -> None:
    settings = EmulatorSettings(default_expire_time=3600, record_horizon_days=1)
    core = EmulatorCore(clock=clock, settings=settings)
    core.add_app(ANDROID)
    core.seed_task(ANDROID.access_id, notify(), created_at=START - timedelta(days=2))
    assert call_core(core, "/v3/push/app", notify("token")) == 0
    assert call_core(core, "/v3/statistics/get_push_record", {"pushId": "100000001"}) == 1008015
    assert [t["expireTime"] for t in core.tasks()] == [3600, 3600]
