"""Per-app locks on both backends: waiting, naming the holder, sorted order, force-unlock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from reconciler.errors import LockNotAcquired, StateError
from reconciler.state import AppLock, LockHolder, StateStore
from reconciler.state.lock import holder_is_dead, lock_conflict

SINCE = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)


def holder(name: str, *, lock_id: str | None = None) -> LockHolder:
    return LockHolder(
        lock_id=lock_id or f"lock-{name}",
        user=name,
        host=f"{name}-laptop",
        run_id=f"run-{name}",
        commit="0123456789abcdef0123",
        pid=4242,
        acquired_at=SINCE,
    )


def test_acquire_locks_apps_in_sorted_order_and_lists_them(
    store: StateStore, fake_time: Any
) -> None:
    lease = store.acquire(
        ["shop-ios", "shop-android", "shop-ios"],
        holder("alice"),
        timeout=5,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    assert lease.apps == ("shop-android", "shop-ios")
    assert store.list_locks() == [
        AppLock(app="shop-android", holder=holder("alice")),
        AppLock(app="shop-ios", holder=holder("alice")),
    ]
    assert fake_time.sleeps == []


def test_second_run_on_the_same_app_waits_then_names_the_holder(
    open_state: Any, fake_time: Any
) -> None:
    open_state().acquire(["shop-android"], holder("alice"), timeout=0)

    with pytest.raises(LockNotAcquired) as info:
        open_state().acquire(
            ["shop-android"],
            holder("bob"),
            timeout=2,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
        )

    assert fake_time.sleeps == [0.5, 0.5, 0.5, 0.5]
    message = str(info.value)
    assert info.value.exit_code == 3
    assert "app shop-android is held by alice@alice-laptop" in message
    assert "run run-alice, 0123456789ab, pid 4242" in message
    assert "since 2026-11-22T08:30:00Z, lock id lock-alice" in message
    assert "after waiting 2s" in message
    assert info.value.hint == ("wait, or `pushctl force-unlock lock-alice` if that run is dead")


def test_waiting_run_gets_the_lock_once_it_is_released(open_state: Any) -> None:
    first = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    waiting = open_state()
    attempts: list[float] = []

    def sleep(seconds: float) -> None:
        attempts.append(seconds)
        first.release()

    lease = waiting.acquire(["shop-android"], holder("bob"), timeout=10, sleep=sleep)

    assert attempts == [0.5]
    assert waiting.list_locks() == [AppLock(app="shop-android", holder=holder("bob"))]
    lease.release()


def test_different_apps_proceed_side_by_side(open_state: Any) -> None:
    alice = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    bob = open_state().acquire(["shop-ios"], holder("bob"), timeout=0)

    assert [(lock.app, lock.holder.user) for lock in open_state().list_locks()] == [
        ("shop-android", "alice"),
        ("shop-ios", "bob"),
    ]
    alice.release()
    bob.release()


def test_failed_acquire_gives_back_the_locks_it_took(open_state: Any) -> None:
    open_state().acquire(["b-app"], holder("alice"), timeout=0)

    with pytest.raises(LockNotAcquired, match="app b-app is held by alice"):
        open_state().acquire(["c-app", "a-app", "b-app"], holder("bob"), timeout=0)

    # a-app was taken first (sorted order), then given back; c-app was never tried.
    assert [lock.app for lock in open_state().list_locks()] == ["b-app"]


def test_sorted_order_means_the_first_blocked_app_stops_the_run(open_state: Any) -> None:
    open_state().acquire(["a-app"], holder("alice"), timeout=0)

    with pytest.raises(LockNotAcquired, match="app a-app"):
        open_state().acquire(["z-app", "a-app"], holder("bob"), timeout=0)

    assert [lock.app for lock in open_state().list_locks()] == ["a-app"]


def test_lease_as_context_manager_releases_and_release_is_idempotent(
    store: StateStore,
) -> None:
    with store.acquire(["shop-android"], holder("alice"), timeout=0) as lease:
        assert [lock.app for lock in store.list_locks()] == ["shop-android"]

    assert lease.released
    assert store.list_locks() == []
    lease.release()
    assert store.acquire(["shop-android"], holder("bob"), timeout=0).apps == ("shop-android",)


def test_force_unlock_frees_every_app_of_the_lock_and_returns_its_holder(
    open_state: Any,
) -> None:
    open_state().acquire(["shop-android", "shop-ios"], holder("alice"), timeout=0)
    rescuer = open_state()

    assert rescuer.force_unlock("lock-alice") == holder("alice")

    assert rescuer.list_locks() == []
    lease = rescuer.acquire(["shop-android", "shop-ios"], holder("bob"), timeout=0)
    assert lease.apps == ("shop-android", "shop-ios")


def test_force_unlock_of_an_unknown_lock_is_a_state_error(store: StateStore) -> None:
    with pytest.raises(StateError, match="no lock with id nope") as info:
        store.force_unlock("nope")
    assert info.value.hint == "`pushctl state locks` lists the locks held and their ids"


def test_new_holder_has_a_fresh_lock_id_and_this_pid() -> None:
    one = LockHolder.new(user="u", host="h", run_id="r", commit=None, now=SINCE)
    two = LockHolder.new(user="u", host="h", run_id="r", commit=None, now=SINCE)

    assert one.lock_id != two.lock_id
    assert one.pid > 0
    assert "unknown commit" in one.describe()


# -- backend specifics -------------------------------------------------------------------------


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_sqlite_lock_of_a_dead_run_stays_until_force_unlock(open_state: Any) -> None:
    crashed = open_state()
    crashed.acquire(["shop-android"], holder("alice"), timeout=0)
    crashed.close()  # the process is gone; its lease was never released

    survivor = open_state()
    with pytest.raises(LockNotAcquired, match="force-unlock lock-alice"):
        survivor.acquire(["shop-android"], holder("bob"), timeout=0)
    survivor.force_unlock("lock-alice")
    assert survivor.acquire(["shop-android"], holder("bob"), timeout=0).apps == ("shop-android",)


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_postgres_lock_outlives_its_session_until_the_lease_expires(open_state: Any) -> None:
    open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    (pid,) = open_state.raw("SELECT backend_pid FROM pushctl_locks")[0]
    # The session ended (idle timeout, failover, pooler); alice's process may still be running.
    open_state.raw("SELECT pg_terminate_backend(?, 5000)", (pid,))

    survivor = open_state()
    assert survivor.list_locks() == [AppLock(app="shop-android", holder=holder("alice"))]
    with pytest.raises(LockNotAcquired, match="held by alice@alice-laptop"):
        survivor.acquire(["shop-android"], holder("bob"), timeout=0)

    open_state.raw("UPDATE pushctl_locks SET expires_at = expires_at - 86400")  # time passes
    assert survivor.list_locks() == []
    lease = survivor.acquire(["shop-android"], holder("bob"), timeout=0)
    assert survivor.list_locks() == [AppLock(app="shop-android", holder=holder("bob"))]
    lease.release()


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_postgres_force_unlock_ends_the_holding_session(open_state: Any) -> None:
    lease = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    (pid,) = open_state.raw("SELECT backend_pid FROM pushctl_locks")[0]

    open_state().force_unlock("lock-alice")

    assert open_state.raw("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", (pid,)) == [(0,)]
    assert open_state.raw("SELECT count(*) FROM pushctl_locks") == [(0,)]
    lease.release()  # the ended session's lease lets go quietly
    assert lease.released


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_postgres_lock_is_an_advisory_lock_another_session_cannot_take(
    open_state: Any,
) -> None:
    lease = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    (key,) = open_state.raw("SELECT lock_key FROM pushctl_locks")[0]

    with psycopg.connect(open_state.url, autocommit=True) as other:
        row = other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        assert row == (False,)
    lease.release()
    with psycopg.connect(open_state.url, autocommit=True) as other:
        row = other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        assert row == (True,)


def test_a_dead_holder_on_this_host_is_named_as_dead() -> None:
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    dead = LockHolder(
        lock_id="abc",
        user="ci",
        host=socket.gethostname(),
        run_id="r1",
        commit=None,
        pid=probe.pid,
        acquired_at=datetime.now(UTC),
    )
    assert holder_is_dead(dead)
    assert "no longer running" in str(lock_conflict("shop", dead, timeout=0))
    assert not holder_is_dead(dead.model_copy(update={"pid": os.getpid()}))
    assert not holder_is_dead(dead.model_copy(update={"host": "another-host"}))
