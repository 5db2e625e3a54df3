"""What refresh reports about its reads: the lower bound over apps, its log line, quota edges."""

from __future__ import annotations

import logging

import pytest

from reconciler.engine.refresh import from_state, quota_short
from reconciler.records import LiveStatus, TaskBinding

from .conftest import IOS, RECORD_PATH, START, Harness, push_task


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
    assert lines == ["refresh: 1 task(s) by single reads, 1 call(s) expected"]


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
