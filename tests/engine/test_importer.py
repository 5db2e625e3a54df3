"""`pushctl import`: live tasks become manifests whose state matches, appended without loss."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.plan import Action
from reconciler.engine.importer import (
    append_documents,
    existing_push_ids,
    read_existing,
    read_tasks,
    to_manifests,
)
from reconciler.records import LiveStatus, LiveTask

from .conftest import ANDROID, START, Harness, push_task

EXISTING = """\
# Campaign tasks: keep this header.
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: zz-last   # sorted last on purpose
  app: shop-android
spec:
  state: active
  pushId: "900"
---
# second document
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: aa-first
  app: shop-android
spec:
  state: stopped
  pushId: "901"
"""


def live(push_id: str, status: LiveStatus, *, minutes: int = 0, collapse_id: int = 0) -> LiveTask:
    return LiveTask(
        push_id=push_id,
        status=status,
        date=START + timedelta(minutes=minutes),
        push_type="tag",
        message_type="notify",
        title=f"Title {push_id}",
        content="content",
        collapse_id=collapse_id,
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (LiveStatus.INIT, "active"),
        (LiveStatus.WAIT, "active"),
        (LiveStatus.STARTED, "active"),
        (LiveStatus.FINISHED, "active"),
        (LiveStatus.CANCELED, "cancelled"),
        (LiveStatus.DELETED_PUSH_MSG, "stopped"),
        (LiveStatus.REVOKED, "recalled"),
    ],
)
def test_state_is_derived_from_the_live_status(status: LiveStatus, state: str) -> None:
    [item], skipped = to_manifests(ANDROID, [live("1", status)], known_push_ids=set())
    assert item.state == state
    assert skipped == []
    assert item.name == "title-1-1"


@pytest.mark.parametrize("status", [LiveStatus.FAILED, LiveStatus.DELETED])
def test_statuses_without_a_desired_state_are_skipped(status: LiveStatus) -> None:
    imported, [skipped] = to_manifests(ANDROID, [live("1", status)], known_push_ids=set())
    assert imported == []
    assert "cannot be declared" in skipped.reason


def test_collapsed_task_is_overridden_by_the_later_task_of_its_collapse_id() -> None:
    old = live("1", LiveStatus.COLLAPSED, collapse_id=7)
    new = live("2", LiveStatus.STARTED, minutes=5, collapse_id=7)
    imported, skipped = to_manifests(ANDROID, [new, old], known_push_ids=set())
    assert skipped == []
    by_id = {i.live.push_id: i for i in imported}
    assert by_id["1"].state == "overridden"
    assert by_id["1"].overridden_by == by_id["2"].name


@pytest.mark.parametrize("successor", [LiveStatus.FAILED, LiveStatus.STARTED])
def test_collapsed_task_whose_successor_is_not_imported_is_skipped(
    successor: LiveStatus,
) -> None:
    old = live("1", LiveStatus.COLLAPSED, collapse_id=7)
    new = live("2", successor, minutes=5, collapse_id=7)
    known = {"2"} if successor is LiveStatus.STARTED else set()
    imported, skipped = to_manifests(ANDROID, [new, old], known_push_ids=known)
    assert [i.live.push_id for i in imported] == []
    assert {s.push_id for s in skipped} == {"1", "2"}


def test_known_push_ids_are_skipped() -> None:
    imported, [skipped] = to_manifests(
        ANDROID, [live("900", LiveStatus.STARTED)], known_push_ids={"900"}
    )
    assert imported == []
    assert "already declared" in skipped.reason


def test_append_keeps_the_existing_text_comments_and_order() -> None:
    assert existing_push_ids(read_existing(EXISTING)) == {"900", "901"}
    imported, _ = to_manifests(ANDROID, [live("1", LiveStatus.STARTED)], known_push_ids=set())
    text = append_documents(EXISTING, imported)
    assert text.startswith(EXISTING)
    names = [d["metadata"]["name"] for d in read_existing(text)]
    assert names == ["zz-last", "aa-first", "title-1-1"]
    assert "# imported: PUSH_STARTED" in text


def test_append_to_an_empty_file() -> None:
    imported, _ = to_manifests(ANDROID, [live("1", LiveStatus.STARTED)], known_push_ids=set())
    text = append_documents("", imported)
    assert text.startswith("---\n# imported: PUSH_STARTED, tag notify")
    assert [d["spec"]["pushId"] for d in read_existing(text)] == ["1"]


async def test_imported_tasks_adopt_and_the_next_plan_is_empty(harness: Harness) -> None:
    harness.write("made", push_task("made"))  # one task pushctl already manages
    await harness.plan_and_apply()
    running = harness.seed("Running promo")
    stopped = harness.seed("Stopped promo", status=LiveStatus.DELETED_PUSH_MSG.value)
    scheduled = harness.seed("Later promo", send_time="2026-11-23 09:00:00")
    harness.seed("Broken promo", status=LiveStatus.FAILED.value)
    known = {b.push_id for b in harness.store.list_bindings()}
    tasks = await read_tasks(harness.clients[ANDROID], since=None, push_ids=(), now=harness.now())
    imported, skipped = to_manifests(ANDROID, tasks, known_push_ids=known)
    states = {i.live.push_id: i.state for i in imported}
    assert states == {running: "active", stopped: "stopped", scheduled: "active"}
    assert len(skipped) == 2  # the managed task and the failed one
    path = harness.write("imported", append_documents("", imported))
    assert len(load_manifests([path])) == 3
    plan, report = await harness.plan_and_apply()
    assert {c.action for c in plan.changes} == {Action.ADOPT}
    assert not report.failed
    assert (await harness.plan()).is_empty
    assert len(harness.ledger()) == 1  # only the managed task's create


async def test_read_tasks_by_push_id_names_a_missing_one(harness: Harness) -> None:
    running = harness.seed("Running promo")
    [task] = await read_tasks(
        harness.clients[ANDROID], since=None, push_ids=(running,), now=harness.now()
    )
    assert task.push_id == running
    with pytest.raises(Exception, match="push 12345 was not found"):
        await read_tasks(
            harness.clients[ANDROID], since=None, push_ids=("12345",), now=harness.now()
        )


class RangeRecorder:
    """Records the date range asked for; returns nothing."""

    def __init__(self) -> None:
        self.asked: list[tuple[date, date]] = []

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]:
        self.asked.append((start_date, end_date))
        return []

    async def get_push_record(self, push_id: str) -> LiveTask:
        raise AssertionError("not used")


async def test_import_never_asks_for_days_tpns_no_longer_keeps() -> None:
    reader = RangeRecorder()
    now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # 04:00 on the 23rd in Beijing
    await read_tasks(reader, since=date(2026, 1, 1), push_ids=(), now=now)  # type: ignore[arg-type]
    await read_tasks(reader, since=date(2026, 11, 20), push_ids=(), now=now)  # type: ignore[arg-type]
    (first_start, first_end), (second_start, _) = reader.asked
    assert first_start == date(2026, 10, 24)  # a month back, as a Beijing date
    assert first_end == date(2027, 2, 21)
    assert second_start == date(2026, 11, 20)
