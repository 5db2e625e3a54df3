"""The ledger's edges: window boundaries, history preloaded, settling, and the wording of a wait."""

from __future__ import annotations

import pytest

from reconciler.errors import QuotaExceeded
from reconciler.tpns.endpoints import GET_PUSH_RECORD, PUSH_APP, STATISTICS_PATHS, STOP_PUSH_MSG
from reconciler.tpns.quota import QuotaLedger, RateLimit, default_limits

from .fakes import FakeTime


def test_a_rate_limit_needs_one_call_and_a_positive_window() -> None:
    assert RateLimit(1, 0.5) == RateLimit(calls=1, window=0.5)
    with pytest.raises(ValueError, match=r"calls >= 1 and window > 0, got RateLimit\(calls=1"):
        RateLimit(1, 0.0)
    with pytest.raises(ValueError, match="window > 0"):
        RateLimit(1, -1.0)
    with pytest.raises(ValueError, match="calls >= 1"):
        RateLimit(0, 3600.0)


def test_default_limits_are_200_statistics_calls_an_hour_and_one_broadcast_a_second() -> None:
    limits = default_limits()
    assert set(limits) == {*STATISTICS_PATHS, PUSH_APP}
    assert {limits[path] for path in STATISTICS_PATHS} == {RateLimit(200, 3600.0)}
    assert limits[PUSH_APP] == RateLimit(1, 1.0)
    assert STOP_PUSH_MSG not in limits


def test_a_call_leaves_the_window_exactly_one_window_later(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(2, 10.0)})
    ledger.reserve("/x")
    fake_time.now += 9.5
    assert ledger.used("/x") == 1
    assert ledger.remaining("/x") == 1
    fake_time.now += 0.5
    assert ledger.used("/x") == 0
    assert ledger.remaining("/x") == 2


def test_a_full_window_reopens_when_its_oldest_call_ages_out(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(2, 10.0)})
    start = fake_time.now
    ledger.reserve("/x")
    fake_time.now += 3
    ledger.reserve("/x")
    assert ledger.remaining("/x") == 0
    assert ledger.resets_at("/x") == start + 10
    with pytest.raises(QuotaExceeded):
        ledger.reserve("/x")
    assert ledger.used("/x") == 2


def test_history_counts_and_a_future_time_counts_as_now(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(3, 100.0)})
    now = fake_time.now
    ledger.reserve("/x")
    ledger.preload("/x", [now - 50, now + 500])
    assert ledger.used("/x") == 3
    assert ledger.remaining("/x") == 0
    # Oldest first after the merge: the call 50 s ago is the one that frees the next slot.
    assert ledger.resets_at("/x") == now + 50
    fake_time.now = now + 50
    assert ledger.used("/x") == 2
    fake_time.now = now + 100
    assert ledger.used("/x") == 0


def test_history_on_a_path_without_a_limit_is_ignored(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock)
    ledger.preload(STOP_PUSH_MSG, [fake_time.now])
    assert ledger.used(STOP_PUSH_MSG) == 0
    assert ledger.limit(STOP_PUSH_MSG) is None
    assert ledger.limit(PUSH_APP) == RateLimit(1, 1.0)


def test_every_limited_reservation_is_reported_with_its_time(fake_time: FakeTime) -> None:
    reported: list[tuple[str, float]] = []
    ledger = QuotaLedger(fake_time.clock, on_reserve=lambda path, at: reported.append((path, at)))
    ledger.reserve(GET_PUSH_RECORD)
    ledger.reserve(STOP_PUSH_MSG)
    ledger.preload(GET_PUSH_RECORD, [fake_time.now - 1])
    assert reported == [(GET_PUSH_RECORD, fake_time.now)]


def test_settle_moves_the_last_call_to_when_its_answer_came(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock)
    start = fake_time.now
    ledger.reserve(PUSH_APP)
    fake_time.now += 0.75
    ledger.settle(PUSH_APP)
    assert ledger.resets_at(PUSH_APP) == start + 1.75
    # A clock read earlier than the reservation never moves it back.
    fake_time.now = start
    ledger.settle(PUSH_APP)
    assert ledger.resets_at(PUSH_APP) == start + 1.75
    ledger.settle(STOP_PUSH_MSG)  # nothing recorded there: nothing to settle
    assert ledger.used(STOP_PUSH_MSG) == 0


async def test_wait_and_reserve_does_not_sleep_when_a_slot_is_free(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits={PUSH_APP: RateLimit(2, 1.0)})
    await ledger.wait_and_reserve(PUSH_APP, fake_time.sleep)
    await ledger.wait_and_reserve(PUSH_APP, fake_time.sleep)
    assert fake_time.sleeps == []
    await ledger.wait_and_reserve(PUSH_APP, fake_time.sleep)
    assert fake_time.sleeps == [1.0]
    assert ledger.used(PUSH_APP) == 1


@pytest.mark.parametrize(
    ("window", "words"),
    [
        (1.0, "in the last second; the next call is allowed at 2026-09-21T14:13:21+00:00 (in 1 s)"),
        (60.0, "in the last minute; the next call is allowed at 2026-09-21T14:14:20+00:00 "
         "(in 1 min 0 s)"),
        (86400.0, "in the last day; the next call is allowed at 2026-09-22T14:13:20+00:00 "
         "(in 1440 min 0 s)"),
        (90.0, "in the last 90 s; the next call is allowed at 2026-09-21T14:14:50+00:00 "
         "(in 1 min 30 s)"),
    ],
)  # fmt: skip
def test_exhaustion_names_the_window_and_rounds_the_wait_up(
    fake_time: FakeTime, window: float, words: str
) -> None:
    fake_time.now = 1_790_000_000.0  # 2026-09-21T14:13:20Z
    ledger = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(1, window)})
    ledger.reserve("/x")
    error = ledger.exceeded("/x")
    assert error.message == f"TPNS quota spent on /x: 1 of 1 calls used {words}"
    assert error.hint == "wait until then, or read fewer tasks (plan --target ADDR)"


def test_exhaustion_waits_for_the_rest_of_the_window_only(fake_time: FakeTime) -> None:
    fake_time.now = 1_790_000_000.0
    ledger = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(1, 3600.0)})
    ledger.reserve("/x")
    fake_time.now += 3599.5
    message = ledger.exceeded("/x").message
    assert "calls used in the last hour;" in message
    assert message.endswith("(in 1 s)")
    assert " for app" not in message


def test_a_wait_under_a_millisecond_still_reads_as_one_second(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits={"/x": RateLimit(1, 10.0)})
    ledger.reserve("/x")
    fake_time.now += 9.9996
    assert ledger.remaining("/x") == 0
    assert ledger.exceeded("/x").message.endswith("(in 1 s)")
