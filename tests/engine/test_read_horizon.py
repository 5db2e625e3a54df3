"""A long-lived repository: reads go only to tasks TPNS still shows and that are not settled.

Tasks dated before TPNS's one-month record horizon cannot be read (TPNS answers 1008015, and
a date range reaching back past the horizon is refused), so refresh never asks for them and
the planner judges them from what state recorded. Reads of the rest are counted both by the
clients and by the emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.records import LiveStatus, TaskBinding

from .conftest import ACCESS_IDS, ANDROID, RECORD_PATH, START, Harness, push_task, tag_body


def bound_task(
    harness: Harness,
    name: str,
    *,
    state: str,
    status: LiveStatus | None,
    created: datetime,
    seeded_status: str | None = None,
) -> str:
    """A task pushctl sent at `created`, bound in state with `status` recorded."""
    body = tag_body(name)
    push_id = harness.core.seed_task(
        ACCESS_IDS[ANDROID], body, status=seeded_status, created_at=created
    )
    harness.store.put_binding(
        TaskBinding(
            address=f"{ANDROID}/{name}",
            app=ANDROID,
            push_id=push_id,
            created_by_pushctl=True,
            last_status=status,
            date=created,
            body=body,
        )
    )
    return push_task(name, state=state)


def year_of_tasks(harness: Harness) -> list[str]:
    """Old tasks (past the horizon, some never settled), settled recent ones, a few to read."""
    documents = []
    for n in range(6):
        old = START - timedelta(days=40 + 30 * n)
        documents += [
            bound_task(harness, f"old-{n}", state="active", status=None, created=old),
            bound_task(
                harness, f"old-fin-{n}", state="active", status=LiveStatus.FINISHED, created=old
            ),
            bound_task(
                harness,
                f"old-stopped-{n}",
                state="stopped",
                status=LiveStatus.DELETED_PUSH_MSG,
                created=old,
            ),
        ]
    for n in range(4):
        recent = START - timedelta(days=2 + n, hours=1)
        documents.append(
            bound_task(
                harness,
                f"recent-stopped-{n}",
                state="stopped",
                status=LiveStatus.DELETED_PUSH_MSG,
                created=recent,
                seeded_status=LiveStatus.DELETED_PUSH_MSG.value,
            )
        )
    recent = START - timedelta(days=1)
    documents += [
        bound_task(harness, "recent-0", state="active", status=None, created=recent),
        bound_task(harness, "recent-1", state="active", status=LiveStatus.FINISHED, created=recent),
    ]
    return documents


async def test_tasks_past_the_horizon_and_settled_tasks_are_never_read(harness: Harness) -> None:
    harness.write("year", *year_of_tasks(harness))
    plan = await harness.plan()
    # Two tasks are readable and unsettled, both of one day that holds nothing else: one page.
    assert plan.api_usage.lower_bound == 1
    assert harness.calls_made() == {RECORD_PATH: 1}
    assert harness.reads_seen() == 1
    assert plan.api_usage.calls == {RECORD_PATH: 1}
    assert plan.applyable
    assert plan.is_empty
    assert not plan.diagnostics


async def test_one_task_past_the_horizon_costs_no_read(harness: Harness) -> None:
    old = START - timedelta(days=31)
    harness.write(
        "old", bound_task(harness, "old", state="active", status=LiveStatus.FINISHED, created=old)
    )
    plan = await harness.plan()
    assert harness.calls_made() == {}
    assert harness.reads_seen() == 0
    assert plan.api_usage.lower_bound == 0
    assert plan.is_empty
    assert not plan.diagnostics


async def test_refresh_all_still_leaves_tasks_past_the_horizon_unread(harness: Harness) -> None:
    harness.write("year", *year_of_tasks(harness))
    plan = await harness.plan(refresh="all")
    # The two unsettled tasks and the four settled recent ones; never the eighteen old ones.
    assert harness.reads_seen() == plan.api_usage.total
    # One date-range page holds them; the old ones' dates lie outside it.
    assert plan.api_usage.total == 1
    assert plan.applyable
    assert not plan.diagnostics


async def test_a_past_horizon_task_left_unsettled_is_reported_not_called(
    harness: Harness,
) -> None:
    old = START - timedelta(days=45)
    harness.write(
        "old",
        bound_task(harness, "halted", state="stopped", status=LiveStatus.STARTED, created=old),
        bound_task(harness, "unknown", state="recalled", status=None, created=old),
        bound_task(harness, "sent", state="active", status=None, created=old),
    )
    plan = await harness.plan()
    assert harness.reads_seen() == 0
    assert plan.changes == ()
    assert plan.applyable
    passed = {d.address: d for d in plan.diagnostics if d.code == "horizon.passed"}
    assert sorted(passed) == [f"{ANDROID}/halted", f"{ANDROID}/unknown"]
    assert all(d.severity == "warning" for d in passed.values())
    assert "cannot be made stopped" in passed[f"{ANDROID}/halted"].message
    assert "PUSH_STARTED" in passed[f"{ANDROID}/halted"].message
    assert "no status recorded" in passed[f"{ANDROID}/unknown"].message
    # Nothing is sent again for a task only its record's age hides.
    report = await harness.apply(plan)
    assert not report.failed
    assert len(harness.ledger()) == 0


async def test_reads_split_into_day_ranges_around_settled_days(harness: Harness) -> None:
    """Targets on two days with many settled tasks between them: one page per day, not a range
    over every day between (which would read the settled tasks too)."""
    documents = []
    for day in (3, 12):
        for n in range(150):
            documents.append(
                bound_task(
                    harness,
                    f"d{day}-{n:03d}",
                    state="active",
                    status=None,
                    created=START - timedelta(days=day),
                )
            )
    for n in range(400):
        documents.append(
            bound_task(
                harness,
                f"settled-{n:03d}",
                state="stopped",
                status=LiveStatus.DELETED_PUSH_MSG,
                created=START - timedelta(days=4 + n % 7, hours=n % 12),
                seeded_status=LiveStatus.DELETED_PUSH_MSG.value,
            )
        )
    harness.write("many", *documents)
    plan = await harness.plan()
    assert plan.api_usage.lower_bound == 2
    assert harness.reads_seen() == 2
    assert plan.is_empty
    assert not plan.diagnostics


async def test_an_edit_of_a_push_sent_before_the_horizon_is_refused(harness: Harness) -> None:
    old = START - timedelta(days=45)
    harness.write("old", bound_task(harness, "sent", state="active", status=None, created=old))
    (harness.manifest_dir / "old.yaml").write_text(
        push_task("sent", content="New words."), encoding="utf-8"
    )
    plan = await harness.plan()
    assert harness.reads_seen() == 0
    assert [(d.code, d.severity) for d in plan.diagnostics] == [("content.delivered", "error")]
    assert "was sent on 2026-10-07" in plan.diagnostics[0].message
    assert not plan.applyable
