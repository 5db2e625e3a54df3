"""Lock leases on both backends: renewed before each call, lost loudly, taken over only safely."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import LockLost, LockNotAcquired
from reconciler.state import AppLock, LockHolder
from reconciler.state.lock import (
    LEASE_SECONDS,
    LockLease,
    holder_is_dead,
    process_identity,
    takeover_reason,
)
from reconciler.state.sqlite import SqliteStateStore

SINCE = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)


def holder(name: str, **update: Any) -> LockHolder:
    base = LockHolder(
        lock_id=f"lock-{name}",
        user=name,
        host=f"{name}-laptop",
        run_id=f"run-{name}",
        commit="0123456789abcdef0123",
        pid=4242,
        acquired_at=SINCE,
    )
    return base.model_copy(update=update)


def dead_pid() -> int:
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    return probe.pid


def expire_leases(open_state: Any) -> None:
    """Let the held leases run out unrenewed, as for a run stalled past LEASE_SECONDS."""
    open_state.raw("UPDATE pushctl_locks SET expires_at = expires_at - ?", (LEASE_SECONDS + 1,))


# -- check() -------------------------------------------------------------------------------


def test_check_renews_the_lease_of_the_run_holding_the_lock(open_state: Any) -> None:
    lease = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    open_state.raw("UPDATE pushctl_locks SET expires_at = expires_at - 100")
    before = open_state.raw("SELECT expires_at FROM pushctl_locks")[0][0]

    lease.check()

    after = open_state.raw("SELECT expires_at FROM pushctl_locks")[0][0]
    assert after >= before + 100
    lease.release()


def test_check_raises_lock_lost_after_force_unlock(open_state: Any) -> None:
    lease = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    open_state().force_unlock("lock-alice")

    with pytest.raises(LockLost) as info:
        lease.check()

    assert info.value.exit_code == 3
    assert "lock id lock-alice" in str(info.value)
    assert "stopped before its next TPNS call" in str(info.value)


def test_check_names_the_run_that_took_an_expired_lease_over(open_state: Any) -> None:
    stalled = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    expire_leases(open_state)
    newcomer = open_state().acquire(["shop-android"], holder("bob"), timeout=0)

    # On PostgreSQL the stalled run's session was ended to free its advisory lock.
    sqlite = open_state.url.startswith("sqlite:")
    lost = r"app shop-android .* now held by bob@bob-laptop" if sqlite else "session .* ended"
    with pytest.raises(LockLost, match=lost):
        stalled.check()

    # The stalled run's exit does not take bob's lock away.
    stalled.release()
    assert [lock.holder.user for lock in open_state().list_locks()] == ["bob"]
    newcomer.check()
    newcomer.release()


def test_check_after_release_raises_lock_lost(store: Any) -> None:
    lease = store.acquire(["shop-android"], holder("alice"), timeout=0)
    lease.release()
    with pytest.raises(LockLost, match="already released"):
        lease.check()


# -- taking over ---------------------------------------------------------------------------


def test_lock_of_a_holder_that_may_be_alive_is_never_taken(open_state: Any) -> None:
    open_state().acquire(["shop-android"], holder("alice"), timeout=0)

    with pytest.raises(LockNotAcquired, match="held by alice@alice-laptop") as info:
        open_state().acquire(["shop-android"], holder("bob"), timeout=0)
    assert "force-unlock lock-alice" in str(info.value)


def test_expired_lease_is_taken_over_with_a_warning(
    open_state: Any, caplog: pytest.LogCaptureFixture
) -> None:
    open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    expire_leases(open_state)

    with caplog.at_level(logging.WARNING, logger="reconciler.state"):
        lease = open_state().acquire(["shop-android"], holder("bob"), timeout=0)

    assert open_state().list_locks() == [AppLock(app="shop-android", holder=holder("bob"))]
    assert "taking over the state lock of app shop-android from alice@alice-laptop" in caplog.text
    assert "lease expired" in caplog.text
    lease.release()


def test_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(
    open_state: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gone = holder("alice", host=socket.gethostname(), pid=dead_pid())
    open_state().acquire(["shop-android"], gone, timeout=0)

    with caplog.at_level(logging.WARNING, logger="reconciler.state"):
        lease = open_state().acquire(["shop-android"], holder("bob"), timeout=0)

    assert lease.apps == ("shop-android",)
    assert "no longer running on this host" in caplog.text
    lease.release()


def test_lock_of_a_live_process_on_this_host_is_not_taken(open_state: Any) -> None:
    me = os.getpid()
    alive = holder("alice", host=socket.gethostname(), pid=me, process=process_identity(me))
    open_state().acquire(["shop-android"], alive, timeout=0)

    with pytest.raises(LockNotAcquired, match="held by alice"):
        open_state().acquire(["shop-android"], holder("bob"), timeout=0)


def test_fresh_lease_lasts_lease_seconds(open_state: Any) -> None:
    open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    assert open_state.raw("SELECT count(*) FROM pushctl_locks WHERE expires_at IS NULL") == [(0,)]


# -- PostgreSQL: a session that ends -------------------------------------------------------


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_postgres_lost_session_is_a_lost_lock_and_blocks_others_until_expiry(
    open_state: Any,
) -> None:
    running = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    (pid,) = open_state.raw("SELECT backend_pid FROM pushctl_locks")[0]
    open_state.raw("SELECT pg_terminate_backend(?, 5000)", (pid,))

    with pytest.raises(LockLost, match="database session holding the state locks"):
        running.check()
    # A second apply may not start while alice's run may still be sending.
    with pytest.raises(LockNotAcquired, match="held by alice"):
        open_state().acquire(["shop-android"], holder("bob"), timeout=0)

    running.release()  # alice stops: her row goes through the store's own connection
    assert open_state().list_locks() == []
    open_state().acquire(["shop-android"], holder("bob"), timeout=0)


@pytest.mark.parametrize("state_url", ["postgresql"], indirect=True)
def test_postgres_row_of_an_older_pushctl_holds_only_with_its_session(open_state: Any) -> None:
    lease = open_state().acquire(["shop-android"], holder("alice"), timeout=0)
    open_state.raw("UPDATE pushctl_locks SET expires_at = NULL")
    assert [lock.app for lock in open_state().list_locks()] == ["shop-android"]
    with pytest.raises(LockNotAcquired):
        open_state().acquire(["shop-android"], holder("bob"), timeout=0)
    (pid,) = open_state.raw("SELECT backend_pid FROM pushctl_locks")[0]
    open_state.raw("SELECT pg_terminate_backend(?, 5000)", (pid,))

    assert open_state().acquire(["shop-android"], holder("bob"), timeout=0).apps == (
        "shop-android",
    )
    lease.release()


# -- SQLite ----------------------------------------------------------------------------------


def test_sqlite_lease_is_measured_on_the_injected_wall_clock(tmp_path: Path) -> None:
    now = [1_000_000.0]
    first = SqliteStateStore(tmp_path / "state.db", wall=lambda: now[0])
    second = SqliteStateStore(tmp_path / "state.db", wall=lambda: now[0])
    try:
        stalled = first.acquire(["shop-android"], holder("alice"), timeout=0)
        now[0] += LEASE_SECONDS - 1
        with pytest.raises(LockNotAcquired):
            second.acquire(["shop-android"], holder("bob"), timeout=0)
        stalled.check()  # renewed: another full lease from here
        now[0] += LEASE_SECONDS - 1
        with pytest.raises(LockNotAcquired):
            second.acquire(["shop-android"], holder("bob"), timeout=0)
        now[0] += 2
        assert second.acquire(["shop-android"], holder("bob"), timeout=0).apps == ("shop-android",)
        with pytest.raises(LockLost, match="now held by bob"):
            stalled.check()
    finally:
        first.close()
        second.close()


def test_sqlite_state_from_before_leases_gains_the_column_and_keeps_its_locks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "CREATE TABLE pushctl_locks (app TEXT PRIMARY KEY, lock_id TEXT NOT NULL, "
            "doc TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO pushctl_locks VALUES ('shop-android', 'lock-alice', ?)",
            (holder("alice").model_dump_json(),),
        )
    store = SqliteStateStore(path, wall=lambda: 4e9)
    try:
        with pytest.raises(LockNotAcquired, match="held by alice"):
            store.acquire(["shop-android"], holder("bob"), timeout=0)
    finally:
        store.close()


# -- the heartbeat ---------------------------------------------------------------------------


def test_heartbeat_renews_until_released() -> None:
    renewed = threading.Semaphore(0)
    lease = LockLease(
        holder("alice"), ["shop-android"], lambda: None, renew=renewed.release, heartbeat=0.001
    )
    assert renewed.acquire(timeout=10)
    assert renewed.acquire(timeout=10)
    lease.release()
    assert lease._beat is not None
    assert not lease._beat.is_alive()


def test_heartbeat_stops_once_the_lock_is_lost(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def lost() -> None:
        calls.append(1)
        raise LockLost("the state lock of app shop-android was taken from this run")

    lease = LockLease(holder("alice"), ["shop-android"], lambda: None, renew=lost, heartbeat=0.001)
    assert lease._beat is not None
    lease._beat.join(timeout=10)
    assert not lease._beat.is_alive()
    assert calls == [1]
    assert "was taken from this run" in caplog.text
    lease.release()


# -- telling a dead holder from a live one -----------------------------------------------------


def test_pid_reused_by_a_younger_process_counts_as_gone() -> None:
    me = os.getpid()
    mine = process_identity(me)
    assert mine is not None
    boot_ns, _, started = mine.rpartition("/")
    here = socket.gethostname()
    reused = holder("ci", host=here, pid=me, process=f"{boot_ns}/{int(started) - 1}")
    assert holder_is_dead(reused)
    assert not holder_is_dead(reused.model_copy(update={"process": mine}))
    other_boot = reused.model_copy(update={"process": f"another-boot/{started}"})
    assert not holder_is_dead(other_boot.model_copy(update={"pid": dead_pid()}))


def test_takeover_reason_only_for_expiry_or_a_dead_holder() -> None:
    alive = holder("alice")
    assert takeover_reason(alive, expires_at=100.0, now=99.0) is None
    assert takeover_reason(alive, expires_at=None, now=1e12) is None
    assert takeover_reason(alive, expires_at=100.0, now=130.0) == "its lease expired 30s ago"
    gone = holder("alice", host="h", pid=dead_pid())
    assert takeover_reason(gone, expires_at=None, now=0, host="h") is not None
