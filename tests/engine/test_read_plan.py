"""Choosing reads: single reads or date-range pages per run of days, by the pages state expects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.engine.live_catalog import DatedTasks, HorizonWindow
from reconciler.engine.read_plan import DayRange, ReadTarget, lower_bound, plan_reads
from reconciler.records import LiveStatus, StateSnapshot, TaskBinding

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
WINDOW = HorizonWindow.at(NOW, utc_offset="+08:00")


def day(days_ago: int) -> datetime:
    return NOW - timedelta(days=days_ago)


def state_of(*groups: tuple[str, datetime, int]) -> StateSnapshot:
    """(app, date, how many) -> a state binding that many tasks of the app on that date."""
    bindings = {}
    for app, when, count in groups:
        for n in range(count):
            address = f"{app}/t-{when:%m%d}-{n:04d}"
            bindings[address] = TaskBinding(
                address=address,
                app=app,
                push_id=f"{app}-{when:%m%d}-{n}",
                created_by_pushctl=True,
                last_status=LiveStatus.FINISHED,
                date=when,
            )
    return StateSnapshot(lineage="l", serial=1, bindings=bindings)


def targets_on(app: str, when: datetime | None, count: int) -> list[ReadTarget]:
    stamp = f"{when:%m%d}" if when else "none"
    return [
        ReadTarget(f"{app}/t-{stamp}-{n:04d}", f"{app}-{stamp}-{n}", when) for n in range(count)
    ]


def test_pages_count_every_task_state_knows_on_the_days_read() -> None:
    state = state_of(("a", day(3), 250))
    plan = plan_reads("a", targets_on("a", day(3), 10), DatedTasks.of(state, WINDOW), WINDOW)
    assert plan.ranges == (DayRange(day(3).date(), day(3).date(), pages=2),)
    assert plan.singles == ()
    assert plan.calls == 2


def test_few_tasks_on_a_busy_day_are_read_singly() -> None:
    state = state_of(("a", day(3), 1000))
    targets = targets_on("a", day(3), 5)
    plan = plan_reads("a", targets, DatedTasks.of(state, WINDOW), WINDOW)
    assert plan.singles == tuple(targets)
    assert plan.ranges == ()


def test_days_far_apart_are_read_as_separate_ranges() -> None:
    state = state_of(
        ("a", day(3), 150), *(("a", day(d), 80) for d in range(4, 9)), ("a", day(9), 150)
    )
    targets = targets_on("a", day(3), 150) + targets_on("a", day(9), 150)
    plan = plan_reads("a", targets, DatedTasks.of(state, WINDOW), WINDOW)
    assert [(r.start, r.end, r.pages) for r in plan.ranges] == [
        (day(9).date(), day(9).date(), 1),
        (day(3).date(), day(3).date(), 1),
    ]
    assert plan.calls == lower_bound(targets) == 2


def test_tasks_of_other_apps_do_not_fill_the_pages() -> None:
    state = state_of(("a", day(2), 30), ("b", day(2), 5000))
    plan = plan_reads("a", targets_on("a", day(2), 30), DatedTasks.of(state, WINDOW), WINDOW)
    assert plan.calls == 1


def test_tasks_before_the_horizon_are_not_counted() -> None:
    dated = DatedTasks.of(state_of(("a", day(45), 500), ("a", day(2), 3)), WINDOW)
    assert dated.between("a", WINDOW.start_date, WINDOW.end_date) == 3
    assert not WINDOW.readable(day(31))
    assert WINDOW.readable(day(29))
    assert WINDOW.readable(None)


def test_tasks_of_unknown_date_are_read_singly_unless_the_whole_horizon_costs_less() -> None:
    dated = DatedTasks.of(state_of(("a", day(2), 1000)), WINDOW)
    few = targets_on("a", None, 3)
    assert plan_reads("a", few, dated, WINDOW).singles == tuple(few)
    many = targets_on("a", None, 250)
    plan = plan_reads("a", many, dated, WINDOW)
    assert plan.ranges == (DayRange(WINDOW.start_date, WINDOW.end_date, pages=7),)
    assert plan.singles == ()
