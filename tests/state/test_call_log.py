"""The TPNS call log in the state store, on both backends, and quota ledgers that start from it.

The hourly get_push_record quota is shared by every run on an app; the log is how a new
command's ledger learns what earlier commands and other CI jobs already spent (docs/design.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import QuotaExceeded
from reconciler.state import StateStore
from reconciler.tpns.endpoints import GET_PUSH_RECORD, PUSH_APP
from reconciler.tpns.quota import QuotaLedger

OTHER_STATS = "/v3/statistics/get_push_task_stat_channel"
NOW = 1_800_000_000.0
HOUR = 3600.0
DAY = 86400.0


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the store contract ------------------------------------------------------------------------


def test_a_new_store_has_an_empty_call_log_table(open_state: Any) -> None:
    store = open_state()

    assert store.calls_since("shop-android", GET_PUSH_RECORD, 0.0) == []
    assert open_state.raw("SELECT count(*) FROM pushctl_calls") == [(0,)]


def test_recorded_calls_come_back_oldest_first_from_since_on(store: StateStore) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 10, NOW - 3000, NOW - 7200])
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 1.5])

    assert store.calls_since("shop-android", GET_PUSH_RECORD, NOW - HOUR) == [
        NOW - 3000,
        NOW - 10,
        NOW - 1.5,
    ]
    assert store.calls_since("shop-android", GET_PUSH_RECORD, NOW - 10) == [NOW - 10, NOW - 1.5]
    assert store.calls_since("shop-android", GET_PUSH_RECORD, NOW) == []


def test_calls_are_kept_per_app_and_path(store: StateStore) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 1])
    store.record_calls("shop-ios", GET_PUSH_RECORD, [NOW - 2, NOW - 3])
    store.record_calls("shop-android", OTHER_STATS, [NOW - 4])

    assert store.calls_since("shop-android", GET_PUSH_RECORD, 0.0) == [NOW - 1]
    assert store.calls_since("shop-ios", GET_PUSH_RECORD, 0.0) == [NOW - 3, NOW - 2]
    assert store.calls_since("shop-android", OTHER_STATS, 0.0) == [NOW - 4]
    assert store.calls_since("shop-ios", OTHER_STATS, 0.0) == []


def test_repeated_times_are_separate_calls(store: StateStore) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW, NOW])
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW])

    assert store.calls_since("shop-android", GET_PUSH_RECORD, 0.0) == [NOW, NOW, NOW]


def test_recording_nothing_changes_nothing(store: StateStore) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [])

    assert store.calls_since("shop-android", GET_PUSH_RECORD, 0.0) == []


def test_calls_are_durable_and_shared_between_stores(open_state: Any) -> None:
    writer = open_state()
    writer.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 60])
    writer.close()

    # Another run (another CI job on the same state) sees the call.
    assert open_state().calls_since("shop-android", GET_PUSH_RECORD, NOW - HOUR) == [NOW - 60]


def test_a_write_prunes_that_apps_calls_older_than_a_day(
    store: StateStore, open_state: Any
) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 3 * DAY, NOW - DAY + 5])
    store.record_calls("shop-ios", GET_PUSH_RECORD, [NOW - 3 * DAY])
    store.record_calls("shop-android", OTHER_STATS, [NOW - 3 * DAY])

    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW])

    assert store.calls_since("shop-android", GET_PUSH_RECORD, 0.0) == [NOW - DAY + 5, NOW]
    rows = open_state.raw("SELECT app, path FROM pushctl_calls WHERE at < ?", (NOW - DAY,))
    # Other apps and paths keep theirs until their own next write.
    assert sorted(rows) == [("shop-android", OTHER_STATS), ("shop-ios", GET_PUSH_RECORD)]


def test_times_keep_sub_second_precision(store: StateStore) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW + 0.123456])

    assert store.calls_since("shop-android", GET_PUSH_RECORD, NOW) == [NOW + 0.123456]


# -- ledgers that start from the log ----------------------------------------------------------


def preloaded(store: StateStore, clock: Clock, app: str = "shop-android") -> QuotaLedger:
    ledger = QuotaLedger(clock, app="1500001048")
    ledger.preload(GET_PUSH_RECORD, store.calls_since(app, GET_PUSH_RECORD, clock() - HOUR))
    return ledger


def test_a_ledger_preloaded_with_199_recent_calls_has_one_left(store: StateStore) -> None:
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 10 - i for i in range(199)])
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - HOUR - 1])  # an hour ago: spent

    ledger = preloaded(store, Clock())

    assert ledger.used(GET_PUSH_RECORD) == 199
    assert ledger.remaining(GET_PUSH_RECORD) == 1
    ledger.reserve(GET_PUSH_RECORD)
    assert ledger.remaining(GET_PUSH_RECORD) == 0


def test_the_next_slot_opens_when_the_oldest_logged_call_ages_out(store: StateStore) -> None:
    clock = Clock()
    store.record_calls("shop-android", GET_PUSH_RECORD, [NOW - 100 - i for i in range(200)])

    ledger = preloaded(store, clock)

    assert ledger.remaining(GET_PUSH_RECORD) == 0
    assert ledger.resets_at(GET_PUSH_RECORD) == NOW - 299 + HOUR
    assert "200 of 200 calls used in the last hour" in str(ledger.exceeded(GET_PUSH_RECORD))
    clock.now = NOW - 299 + HOUR
    assert ledger.remaining(GET_PUSH_RECORD) == 1


def test_what_a_ledger_reserves_reaches_the_next_ledger(store: StateStore) -> None:
    clock = Clock()
    first = preloaded(store, clock)
    first.on_reserve = lambda path, at: store.record_calls("shop-android", path, [at])
    for _ in range(3):
        first.reserve(GET_PUSH_RECORD)
        clock.now += 1

    second = preloaded(store, clock)

    assert second.remaining(GET_PUSH_RECORD) == 197
    assert store.calls_since("shop-android", GET_PUSH_RECORD, 0.0) == [NOW, NOW + 1, NOW + 2]


# -- the ledger alone ----------------------------------------------------------------------------


def test_preload_counts_only_calls_inside_the_window() -> None:
    ledger = QuotaLedger(Clock())

    ledger.preload(GET_PUSH_RECORD, [NOW - HOUR, NOW - HOUR + 1, NOW - 5])

    assert ledger.used(GET_PUSH_RECORD) == 2  # a call exactly an hour old has aged out
    assert ledger.remaining(GET_PUSH_RECORD) == 198


def test_preload_merges_with_calls_already_reserved() -> None:
    clock = Clock()
    ledger = QuotaLedger(clock)
    ledger.reserve(GET_PUSH_RECORD)

    ledger.preload(GET_PUSH_RECORD, [NOW - 50, NOW - 20])

    assert ledger.used(GET_PUSH_RECORD) == 3
    clock.now = NOW - 50 + HOUR
    assert ledger.used(GET_PUSH_RECORD) == 2  # the oldest, preloaded after, ages out first


def test_a_call_logged_in_the_future_counts_as_now() -> None:
    clock = Clock()
    ledger = QuotaLedger(clock)

    ledger.preload(GET_PUSH_RECORD, [NOW + 5 * DAY])

    assert ledger.used(GET_PUSH_RECORD) == 1
    clock.now = NOW + HOUR
    assert ledger.used(GET_PUSH_RECORD) == 0


def test_preload_on_a_path_without_a_limit_is_ignored() -> None:
    ledger = QuotaLedger(Clock())

    ledger.preload("/v3/push/stop_push_msg", [NOW - 1])

    assert ledger.used("/v3/push/stop_push_msg") == 0


def test_on_reserve_hears_each_reservation_but_not_preloads() -> None:
    clock = Clock()
    heard: list[tuple[str, float]] = []
    ledger = QuotaLedger(clock, on_reserve=lambda path, at: heard.append((path, at)))

    ledger.preload(GET_PUSH_RECORD, [NOW - 1])
    ledger.reserve(GET_PUSH_RECORD)
    clock.now += 2
    ledger.reserve(PUSH_APP)
    ledger.reserve("/v3/push/stop_push_msg")  # no limit: not counted, not reported

    assert heard == [(GET_PUSH_RECORD, NOW), (PUSH_APP, NOW + 2)]


def test_a_refused_reservation_is_not_reported() -> None:
    heard: list[tuple[str, float]] = []
    ledger = QuotaLedger(Clock(), on_reserve=lambda path, at: heard.append((path, at)))
    ledger.preload(GET_PUSH_RECORD, [NOW - i for i in range(200)])

    with pytest.raises(QuotaExceeded):
        ledger.reserve(GET_PUSH_RECORD)
    assert heard == []


# -- broadcast pushes: spaced from the previous push's answer, across commands -----------------


def test_a_moved_call_is_logged_at_its_answer_only(store: StateStore) -> None:
    store.record_calls("shop-android", PUSH_APP, [NOW - 5, NOW - 0.4])
    store.record_calls("shop-ios", PUSH_APP, [NOW - 0.4])

    store.move_call("shop-android", PUSH_APP, sent_at=NOW - 0.4, answered_at=NOW - 0.1)

    assert store.calls_since("shop-android", PUSH_APP, 0.0) == [NOW - 5, NOW - 0.1]
    assert store.calls_since("shop-ios", PUSH_APP, 0.0) == [NOW - 0.4]


def test_a_moved_call_missing_from_the_log_is_logged_at_its_answer(store: StateStore) -> None:
    store.move_call("shop-android", PUSH_APP, sent_at=NOW - 0.4, answered_at=NOW - 0.1)

    assert store.calls_since("shop-android", PUSH_APP, 0.0) == [NOW - 0.1]


def test_the_next_command_spaces_its_push_from_the_last_answer(store: StateStore) -> None:
    clock = Clock()
    first = QuotaLedger(clock, app="1500001048")
    first.on_reserve = lambda path, at: store.record_calls("shop-android", path, [at])
    first.on_settle = lambda path, sent, answered: store.move_call(
        "shop-android", path, sent_at=sent, answered_at=answered
    )
    first.reserve(PUSH_APP)
    clock.now += 0.3  # the answer comes 0.3 s after the push left; then the process dies
    first.settle(PUSH_APP)

    clock.now += 0.8  # a rerun, 1.1 s after the send but 0.8 s after the answer
    second = QuotaLedger(clock, app="1500001048")
    second.preload(PUSH_APP, store.calls_since("shop-android", PUSH_APP, clock() - 1.0))

    assert second.remaining(PUSH_APP) == 0
    assert second.resets_at(PUSH_APP) == NOW + 0.3 + 1.0


def test_settle_reports_a_moved_reservation_and_nothing_else() -> None:
    clock = Clock()
    moves: list[tuple[str, float, float]] = []
    ledger = QuotaLedger(clock, on_settle=lambda *move: moves.append(move))
    ledger.settle(PUSH_APP)  # nothing reserved yet
    ledger.reserve(PUSH_APP)
    ledger.settle(PUSH_APP)  # answered the same instant: nothing moved
    clock.now += 0.25
    ledger.settle(PUSH_APP)

    assert moves == [(PUSH_APP, NOW, NOW + 0.25)]
    assert ledger.resets_at(PUSH_APP) == NOW + 1.25


def test_of_two_calls_sent_at_one_instant_only_one_moves(store: StateStore) -> None:
    store.record_calls("shop-android", PUSH_APP, [NOW - 0.4, NOW - 0.4])

    store.move_call("shop-android", PUSH_APP, sent_at=NOW - 0.4, answered_at=NOW - 0.1)

    assert store.calls_since("shop-android", PUSH_APP, 0.0) == [NOW - 0.4, NOW - 0.1]
