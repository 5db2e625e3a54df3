"""What refresh reports about its reads: the lower bound over apps, its log line, quota edges."""

from __future__ import annotations

import logging

import pytest

from reconciler.engine.live_catalog import HorizonWindow
from reconciler.engine.refresh import (
    ReadTarget,
    from_state,
    quota_short,
    refresh_live_tasks,
    select_reads,
)
from reconciler.errors import PushctlError
from reconciler.records import LiveStatus, LiveTask, TaskBinding
from reconciler.tpns.client import TpnsClient

from .conftest import ANDROID, IOS, RECORD_PATH, START, Harness, push_task


async def test_the_lower_bound_counts_a_call_for_each_app_read(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    harness.write("ios", push_task("ios", app=IOS))
    await harness.plan_and_apply()
    plan = await harness.plan(refresh="all")
    assert plan.api_usage.calls == {RECORD_PATH: 2}
    assert plan.api_usage.lower_bound == 2


async def test_each_app_read_logs_its_strategy_and_expected_calls(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    caplog.set_level(logging.INFO, logger="reconciler.engine.refresh")
    caplog.clear()
    await harness.plan(refresh="all")
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.engine.refresh"]
    assert lines == [
        "refresh: 1 task(s) by 1 single read(s), 0 range(s) of 0 page(s), 1 call(s) expected"
    ]


class Quota:
    def __init__(self, left: int) -> None:
        self.left = left

    def remaining(self, path: str) -> int:
        return self.left

    def resets_at(self, path: str) -> float:
        return 1_790_000_000.0


def test_a_listing_the_quota_covers_exactly_is_not_blind() -> None:
    assert quota_short(Quota(3), 3) == ""
    assert quota_short(None, 10_000) == ""
    short = quota_short(Quota(3), 4)
    assert short.startswith(
        "listing its live tasks needs 4 get_push_record call(s) and 3 are left this hour; "
        "quota returns by "
    )


def test_a_settled_status_from_state_stands_in_with_the_recorded_body() -> None:
    binding = TaskBinding(
        address="shop-android/flash",
        app="shop-android",
        push_id="42",
        created_by_pushctl=True,
        last_status=LiveStatus.CANCELED,
        date=START,
        collapse_id=9,
        body={"audience_type": "tag", "message_type": "notify"},
    )
    recorded = from_state(binding)
    assert recorded is not None
    assert (recorded.push_id, recorded.status, recorded.date) == ("42", LiveStatus.CANCELED, START)
    assert (recorded.push_type, recorded.message_type, recorded.collapse_id) == ("tag", "notify", 9)
    assert recorded.raw == {"source": "state"}
    bare = from_state(binding.model_copy(update={"body": {}}))
    assert bare is not None
    assert (bare.push_type, bare.message_type) == ("", "")
    assert from_state(binding.model_copy(update={"date": None})) is None
    assert from_state(binding.model_copy(update={"last_status": None})) is None


class ListingRefused:
    """A client whose date-range listing fails while single reads still work."""

    def __init__(self, inner: TpnsClient) -> None:
        self.inner = inner
        self.calls_made = inner.calls_made

    async def get_push_record(self, push_id: str) -> LiveTask:
        return await self.inner.get_push_record(push_id)

    async def list_push_records(self, **_: object) -> list[LiveTask]:
        raise PushctlError("listing refused")


async def test_a_failed_guard_listing_still_reads_the_apps_bound_tasks(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.write("fresh", push_task("fresh"))  # not yet sent: the guard lists the app
    state = harness.store.snapshot()
    [address] = state.bindings
    reader = ListingRefused(harness.clients[ANDROID])
    result = await refresh_live_tasks(
        harness.desired(), state, {ANDROID: reader}, {ANDROID: Quota(5)}, now=harness.now()
    )
    assert result.catalogs[ANDROID].unavailable == "TPNS did not answer: listing refused"
    assert result.live[address].push_id == state.bindings[address].push_id
    assert result.calls == {RECORD_PATH: 1}


async def test_a_guard_the_quota_cannot_cover_is_blind_from_the_horizon(harness: Harness) -> None:
    harness.write("fresh", push_task("fresh"))
    now = harness.now()
    result = await refresh_live_tasks(
        harness.desired(),
        harness.store.snapshot(),
        harness.clients,
        {ANDROID: Quota(0)},
        now=now,
    )
    catalog = result.catalogs[ANDROID]
    assert catalog.unavailable.startswith("listing its live tasks needs 1 get_push_record call(s)")
    assert catalog.since == HorizonWindow.at(now, utc_offset="+08:00").since
    assert result.calls == {}


async def test_refresh_skips_settled_tasks_unless_told_to_read_all(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.write("flash", push_task("flash", state="stopped"))
    _, report = await harness.plan_and_apply()
    assert not report.failed
    state = harness.store.snapshot()
    [address] = state.bindings
    result = await refresh_live_tasks(
        harness.desired(), state, harness.clients, harness.quotas(), now=harness.now()
    )
    assert result.calls == {}
    assert result.live[address].raw == {"source": "state"}


async def test_reads_carry_the_date_state_recorded_for_their_push(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    state = harness.store.snapshot()
    [(address, binding)] = state.bindings.items()
    window = HorizonWindow.at(harness.now(), utc_offset="+08:00")
    selection = select_reads(harness.desired(), state, "all", window)
    assert selection.known == {}
    assert selection.past_horizon == 0
    assert selection.reads == {
        ANDROID: [ReadTarget(address=address, push_id=binding.push_id, known_date=binding.date)]
    }
    assert binding.date is not None
