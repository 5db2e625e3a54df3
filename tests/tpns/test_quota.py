"""The sliding-window ledger: remaining calls, when they return, and pacing."""

from __future__ import annotations

import pytest

from reconciler.errors import QuotaExceeded
from reconciler.tpns.endpoints import GET_PUSH_RECORD, PUSH_APP, STOP_PUSH_MSG
from reconciler.tpns.quota import UNLIMITED, QuotaLedger, RateLimit, default_limits

from .fakes import FakeTime


def test_statistics_window_is_200_per_hour(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock)
    start = fake_time.now
    assert ledger.remaining(GET_PUSH_RECORD) == 200
    for _ in range(200):
        ledger.reserve(GET_PUSH_RECORD)
        fake_time.now += 1.0
    assert ledger.remaining(GET_PUSH_RECORD) == 0
    assert ledger.resets_at(GET_PUSH_RECORD) == start + 3600
    fake_time.now = start + 3600
    assert ledger.remaining(GET_PUSH_RECORD) == 1
    assert ledger.resets_at(GET_PUSH_RECORD) == fake_time.now


def test_exhaustion_names_calls_and_return_time(fake_time: FakeTime) -> None:
    fake_time.now = 1_790_000_000.0  # 2026-09-21T14:13:20Z
    ledger = QuotaLedger(fake_time.clock, app="1500001048")
    for _ in range(200):
        ledger.reserve(GET_PUSH_RECORD)
    fake_time.now += 600
    with pytest.raises(QuotaExceeded) as caught:
        ledger.reserve(GET_PUSH_RECORD)
    message = str(caught.value)
    assert "200 of 200 calls used in the last hour" in message
    assert "app 1500001048" in message
    assert "2026-09-21T15:13:20+00:00" in message
    assert "(in 50 min 0 s)" in message
    assert "--target" in message


def test_paths_without_a_limit_are_unlimited(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock)
    ledger.reserve(STOP_PUSH_MSG)
    assert ledger.remaining(STOP_PUSH_MSG) == UNLIMITED
    assert ledger.resets_at(STOP_PUSH_MSG) == fake_time.now


def test_limits_are_configurable(fake_time: FakeTime) -> None:
    limits = default_limits(statistics_per_hour=2, broadcast_per_second=3)
    ledger = QuotaLedger(fake_time.clock, limits=limits)
    assert ledger.remaining(GET_PUSH_RECORD) == 2
    assert ledger.remaining(PUSH_APP) == 3
    custom = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(1, 10.0)})
    custom.reserve("/x")
    assert custom.resets_at("/x") == fake_time.now + 10


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="calls >= 1"):
        RateLimit(0, 1.0)


async def test_wait_and_reserve_paces_one_per_second(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock)
    start = fake_time.now
    sent = []
    for _ in range(5):
        await ledger.wait_and_reserve(PUSH_APP, fake_time.sleep)
        sent.append(fake_time.now - start)
    assert sent == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert fake_time.sleeps == [1.0, 1.0, 1.0, 1.0]
