"""Per-app serials, on both backends: an apply to one app leaves saved plans for others current."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler import __version__
from reconciler.domain.plan import Action, Change, Plan
from reconciler.engine.apply import check_plan_current
from reconciler.errors import StalePlan
from reconciler.records import StateSnapshot
from reconciler.state import StateStore

NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
ANDROID = "shop-android"
IOS = "shop-ios"


def saved_plan(snapshot: StateSnapshot, *apps: str) -> Plan:
    """A plan with one create per app, made against `snapshot` as the planner records it."""
    changes = tuple(
        Change(address=f"{app}/sale", app=app, action=Action.CREATE, reason="declared")
        for app in apps
    )
    return Plan(
        tool_version=__version__,
        created_at=NOW,
        changes=changes,
        state_lineage=snapshot.lineage,
        state_serial=snapshot.serial,
        state_serials={app: snapshot.app_serials.get(app, 0) for app in apps},
    )


def check(plan: Plan, store: StateStore) -> None:
    snapshot = store.snapshot()
    check_plan_current(
        plan,
        lineage=snapshot.lineage,
        serial=snapshot.serial,
        now=NOW,
        app_serials=snapshot.app_serials,
    )


def test_app_serials_count_the_applies_that_changed_each_app(open_state: Any) -> None:
    store = open_state()
    assert store.snapshot().app_serials == {}

    assert store.bump_serial([IOS, ANDROID]) == 1
    assert store.bump_serial([ANDROID, ANDROID]) == 2  # listed twice, counted once
    assert store.bump_serial() == 3  # the global serial still counts every apply

    again = open_state().snapshot()
    assert again.serial == 3
    assert again.app_serials == {ANDROID: 2, IOS: 1}


def test_apply_to_one_app_keeps_saved_plans_for_other_apps_current(open_state: Any) -> None:
    store = open_state()
    store.bump_serial([ANDROID, IOS])
    before = store.snapshot()
    android, ios = saved_plan(before, ANDROID), saved_plan(before, IOS)
    both = saved_plan(before, ANDROID, IOS)

    open_state().bump_serial([ANDROID])  # another job applied shop-android

    check(ios, store)
    with pytest.raises(StalePlan) as caught:
        check(android, store)
    assert caught.value.message == (f"state of app {ANDROID} moved since planning (serial 1 -> 2)")
    assert caught.value.hint == "plan is stale; run plan again"
    with pytest.raises(StalePlan, match=f"state of app {ANDROID} moved"):
        check(both, store)


def test_plan_without_app_serials_is_held_to_the_global_serial(open_state: Any) -> None:
    store = open_state()
    old_file = saved_plan(store.snapshot(), IOS).model_copy(update={"state_serials": {}})
    check(old_file, store)
    store.bump_serial([ANDROID])
    with pytest.raises(StalePlan, match=r"state moved since planning \(serial 0 -> 1\)"):
        check(old_file, store)


def test_parallel_applies_to_different_apps_each_count(open_state: Any) -> None:
    errors: list[BaseException] = []
    stores = {ANDROID: open_state(), IOS: open_state()}  # two runs, each with its own session

    def job(app: str) -> None:
        store = stores[app]
        try:
            for _ in range(15):
                store.bump_serial([app])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(app,)) for app in (ANDROID, IOS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    snapshot = open_state().snapshot()
    assert (snapshot.serial, snapshot.app_serials) == (30, {ANDROID: 15, IOS: 15})


def test_state_written_before_app_serials_opens_with_none(open_state: Any) -> None:
    open_state().bump_serial()
    open_state.raw("DROP TABLE pushctl_app_serials")  # as an older pushctl left it

    store = open_state()
    assert (store.snapshot().serial, store.snapshot().app_serials) == (1, {})
    assert store.bump_serial([IOS]) == 2
    assert store.snapshot().app_serials == {IOS: 1}
