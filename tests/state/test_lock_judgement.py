"""How a lock's holder is judged and described: namespaces, lease boundaries, error wording."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from reconciler.errors import LockLost
from reconciler.state import LockHolder
from reconciler.state.lock import (
    LockLease,
    holder_is_dead,
    lock_conflict,
    process_identity,
    takeover_reason,
)

SINCE = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)


def _holder(**update: object) -> LockHolder:
    base = LockHolder(
        lock_id="lock-1",
        user="alice",
        host="alice-laptop",
        run_id="run-1",
        commit="0123456789abcdef0123",
        pid=4242,
        acquired_at=SINCE,
    )
    return base.model_copy(update=update)


def _dead_pid() -> int:
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    return probe.pid


def test_a_holder_in_another_pid_namespace_of_this_boot_is_never_judged() -> None:
    mine = process_identity(os.getpid())
    assert mine is not None
    boot = mine.split("/", 1)[0]
    # Another container on this host: same boot, its own pid namespace, so our pid table
    # says nothing about it, even where the same pid runs here.
    elsewhere = _holder(host=socket.gethostname(), pid=os.getpid(), process=f"{boot}/pid:[1]/12345")
    assert not holder_is_dead(elsewhere)


def test_a_lease_expiring_right_now_may_be_taken_over() -> None:
    assert takeover_reason(_holder(), expires_at=100.0, now=100.0) == "its lease expired 0s ago"


def test_a_gone_holder_on_this_host_is_taken_over_with_its_reason() -> None:
    gone = _holder(host="h", pid=_dead_pid())
    reason = takeover_reason(gone, expires_at=None, now=0.0, host="h")
    assert reason == "its process is no longer running on this host"


def test_lock_conflicts_say_how_long_they_waited_and_what_to_do() -> None:
    unknown = lock_conflict("shop-android", None, timeout=0)
    assert unknown.message == (
        "the state lock of app shop-android is held by another run (without waiting)"
    )
    assert unknown.hint == "wait and try again; the holder had not yet recorded who it is"
    waited = lock_conflict("shop-android", _holder(), timeout=2.5)
    assert waited.message.endswith("lock id lock-1 (after waiting 2.5s)")
    assert waited.hint == "wait, or `pushctl force-unlock lock-1` if that run is dead"
    gone = _holder(host=socket.gethostname(), pid=_dead_pid())
    dead = lock_conflict("shop-android", gone, timeout=0)
    assert dead.message.endswith(
        "(without waiting); that process is no longer running on this host"
    )
    assert dead.hint == "check nothing else uses it, then `pushctl force-unlock lock-1`"


def test_a_new_holder_records_its_commit_and_this_process() -> None:
    mine = LockHolder.new(user="u", host="h", run_id="r", commit="c0ffee", now=SINCE)
    assert mine.commit == "c0ffee"
    assert mine.pid == os.getpid()
    assert mine.process == process_identity(os.getpid())
    assert mine.process is not None
    other = LockHolder.new(user="u", host="h", run_id="r", commit=None, now=SINCE, pid=7)
    assert (other.pid, other.process) == (7, None)


def _lease_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "pushctl-lease"}


def test_only_a_lease_that_can_renew_runs_a_heartbeat_thread() -> None:
    before = _lease_threads()
    silent = LockLease(_holder(), ["shop-android"], lambda: None, renew=None, heartbeat=0.01)
    assert _lease_threads() - before == set()
    beating = LockLease(_holder(), ["shop-android"], lambda: None, renew=lambda: None)
    [beat] = _lease_threads() - before
    beating.release()
    silent.release()
    assert not beat.is_alive()


def test_a_released_lease_names_every_app_it_gave_back() -> None:
    lease = LockLease(_holder(), ["shop-android", "shop-ios"], lambda: None, heartbeat=None)
    lease.release()
    with pytest.raises(LockLost) as caught:
        lease.check()
    assert caught.value.message == (
        "the state locks of shop-android, shop-ios were already released by this run"
    )
