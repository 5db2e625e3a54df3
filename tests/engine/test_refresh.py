"""Refresh spends the fewest get_push_record calls and stops before the quota runs out."""

from __future__ import annotations

from datetime import datetime

import pytest

from reconciler.errors import QuotaExceeded
from reconciler.records import LiveStatus, TaskBinding

from .conftest import ANDROID, IOS, RECORD_PATH, START, Harness, push_task


async def stopped_task(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.write("flash", push_task("flash", state="stopped"))
    _, report = await harness.plan_and_apply()
    assert not report.failed


async def test_settled_task_that_satisfies_desired_is_not_read_in_auto_mode(
    harness: Harness,
) -> None:
    await stopped_task(harness)
    reads = harness.reads_seen()
    plan = await harness.plan()
    assert plan.is_empty
    assert plan.api_usage.calls == {}
    assert plan.api_usage.lower_bound == 0
    assert harness.reads_seen() == reads


async def test_settled_task_is_read_with_refresh_all(harness: Harness) -> None:
    await stopped_task(harness)
    reads = harness.reads_seen()
    plan = await harness.plan(refresh="all")
    assert plan.is_empty
    assert plan.api_usage.calls == {RECORD_PATH: 1}
    assert harness.reads_seen() == reads + 1


async def test_settled_task_that_does_not_satisfy_desired_is_read(harness: Harness) -> None:
    await stopped_task(harness)
    harness.write("flash", push_task("flash", state="recalled"))
    reads = harness.reads_seen()
    plan = await harness.plan()
    assert plan.api_usage.calls == {RECORD_PATH: 1}
    assert harness.reads_seen() == reads + 1


async def test_one_task_is_one_single_read(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    before = harness.reads_seen()
    sent = len(harness.core.ledger())
    plan = await harness.plan()
    assert plan.api_usage.calls == {RECORD_PATH: 1}
    assert plan.api_usage.lower_bound == 1
    assert harness.reads_seen() - before == 1
    assert len(harness.core.ledger()) == sent  # reads are not mutating calls


def many_adopted(harness: Harness, count: int) -> None:
    """`count` live tasks, adopted in state with their dates, declared active."""
    documents = []
    for index in range(count):
        name = f"task-{index:03d}"
        push_id = harness.seed(f"title {index}")
        harness.store.put_binding(
            TaskBinding(
                address=f"{ANDROID}/{name}",
                app=ANDROID,
                push_id=push_id,
                created_by_pushctl=False,
                last_status=LiveStatus.STARTED,
                date=START,
            )
        )
        documents.append(push_task(name, push_id=push_id, with_push=False))
    harness.write("many", *documents)


async def test_many_tasks_with_known_dates_are_read_by_range_pages(harness: Harness) -> None:
    many_adopted(harness, 300)
    plan = await harness.plan()
    assert plan.api_usage.calls == {RECORD_PATH: 2}
    assert plan.api_usage.lower_bound == 2
    assert harness.reads_seen() == 2
    assert not [d for d in plan.diagnostics if d.code == "live.missing"]


async def test_api_usage_counts_every_read_the_emulator_saw(harness: Harness) -> None:
    for name in ("a", "b", "c"):
        harness.write(name, push_task(name))
    harness.write("ios", push_task("ios", app=IOS))
    await harness.plan_and_apply()
    before = harness.reads_seen()
    plan = await harness.plan(refresh="all")
    assert plan.api_usage.total == harness.reads_seen() - before
    assert plan.api_usage.total >= plan.api_usage.lower_bound


async def test_quota_check_stops_before_any_call(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    quota = harness.clients[ANDROID].quota
    while quota.remaining(RECORD_PATH):
        quota.reserve(RECORD_PATH)  # spent by earlier runs this hour
    reads = harness.reads_seen()
    made = harness.calls_made()
    with pytest.raises(QuotaExceeded) as caught:
        await harness.plan()
    message = str(caught.value)
    assert "needs 1 get_push_record calls" in message
    assert "0 are left" in message
    back = datetime.fromtimestamp(quota.resets_at(RECORD_PATH)).astimezone()
    assert f"quota returns by {back:%Y-%m-%d %H:%M:%S}" in message
    assert harness.reads_seen() == reads
    assert harness.calls_made() == made


async def test_quota_check_counts_pages_not_tasks(harness: Harness) -> None:
    many_adopted(harness, 300)
    quota = harness.clients[ANDROID].quota
    while quota.remaining(RECORD_PATH) > 1:
        quota.reserve(RECORD_PATH)
    with pytest.raises(QuotaExceeded, match="needs 2 get_push_record calls; 1 are left"):
        await harness.plan()
    assert harness.reads_seen() == 0


async def test_task_of_an_unknown_app_is_not_read_and_the_planner_says_why(
    harness: Harness,
) -> None:
    harness.write("odd", push_task("odd", app="shop-web", push_id="123", with_push=False))
    plan = await harness.plan()
    assert plan.api_usage.calls == {}
    assert [d.code for d in plan.diagnostics] == ["app.unknown"]
    assert not plan.applyable


@pytest.mark.parametrize(
    ("status", "desired"),
    [
        (LiveStatus.FAILED, "stopped"),
        (LiveStatus.COLLAPSED, "stopped"),
        (LiveStatus.DELETED, "cancelled"),
        (LiveStatus.CANCELED, "recalled"),
        (LiveStatus.REVOKED, "recalled"),
    ],
)
async def test_adopted_settled_task_needs_no_read_when_nothing_is_left_to_do(
    harness: Harness, status: LiveStatus, desired: str
) -> None:
    push_id = harness.seed("by hand", status=status.value)
    harness.write("hand", push_task("hand", push_id=push_id, state=desired, with_push=False))
    _, report = await harness.plan_and_apply()
    assert not report.failed
    plan = await harness.plan()
    assert plan.is_empty
    assert plan.api_usage.calls == {}
    assert (await harness.plan(refresh="all")).is_empty
