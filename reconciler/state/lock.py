"""Per-app locks: who holds them, the lease a run keeps, and the polling both backends share.

A run that touches several apps takes their locks one by one in sorted order, so two runs
never wait on each other in a cycle; when one lock cannot be had in time, the ones already
taken are given back before the error is raised.

Each lock row carries a lease expiry. The holder renews it from a heartbeat thread and before
each mutating TPNS call (`LockLease.check`), which raises LockLost once the row is no longer
its own. Another run may take a lock over only when that is provably safe: its lease expired
(the holder renewed nothing for LEASE_SECONDS, longer than any one TPNS call may take), or the
holder ran on this host and its process is gone. A run whose holder may be alive is never
broken into; `pushctl force-unlock` remains for the cases a person has to judge.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from reconciler.errors import LockLost, LockNotAcquired
from reconciler.records import Frozen

log = logging.getLogger(__name__)

#: Seconds between two attempts on a lock another run holds.
POLL_INTERVAL = 0.5
#: Seconds a lease lasts past its last renewal. Longer than one push may take to be answered
#: (four 10 s attempts, backoff and its 1/s pacing turn), so that a send started under a valid
#: lease has ended before anyone else may take the lock.
LEASE_SECONDS = 180.0
#: Seconds between two renewals by the heartbeat thread.
HEARTBEAT_SECONDS = 20.0


class LockHolder(Frozen):
    """The run that holds (or asks for) the locks of some apps."""

    lock_id: str
    user: str
    host: str
    run_id: str
    commit: str | None = None
    pid: int
    acquired_at: datetime
    #: Boot, pid namespace and start time of the process, so that a later process given the
    #: same pid is not taken for the holder (None: unknown, e.g. not Linux).
    process: str | None = None

    @classmethod
    def new(
        cls,
        *,
        user: str,
        host: str,
        run_id: str,
        commit: str | None,
        now: datetime,
        pid: int | None = None,
    ) -> LockHolder:
        """A holder with a fresh lock id, for this process unless `pid` says otherwise."""
        return cls(
            lock_id=str(uuid.uuid4()),
            user=user,
            host=host,
            run_id=run_id,
            commit=commit,
            pid=os.getpid() if pid is None else pid,
            acquired_at=now.astimezone(UTC),
            process=process_identity(os.getpid()) if pid is None else None,
        )

    def describe(self) -> str:
        commit = self.commit[:12] if self.commit else "unknown commit"
        since = self.acquired_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return (
            f"{self.user}@{self.host} (run {self.run_id}, {commit}, pid {self.pid}) "
            f"since {since}, lock id {self.lock_id}"
        )


class AppLock(Frozen):
    """One app's lock and the run holding it."""

    app: str
    holder: LockHolder


class LockLease:
    """The locks a run holds; give them back with `release()` or by leaving the `with` block.

    `check()` before each mutating TPNS call: it renews the lease and raises LockLost when
    another run took a lock over or it was force-unlocked. A heartbeat thread renews the lease
    every `heartbeat` seconds in between (None: no thread).
    """

    def __init__(
        self,
        holder: LockHolder,
        apps: Sequence[str],
        release: Callable[[], None],
        *,
        renew: Callable[[], None] | None = None,
        heartbeat: float | None = HEARTBEAT_SECONDS,
    ) -> None:
        self.holder = holder
        self.apps = tuple(apps)
        self._release = release
        self._renew = renew
        self.released = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        if renew is not None and heartbeat is not None and self.apps:
            self._beat = threading.Thread(
                target=self._heartbeat, args=(heartbeat,), name="pushctl-lease", daemon=True
            )
            self._beat.start()

    def check(self) -> None:
        """Raise LockLost unless this run still holds every lock; extends the lease."""
        if self.released:
            raise LockLost(
                f"the state locks of {', '.join(self.apps)} were already released by this run",
                hint="no TPNS call is made after the locks are given back",
            )
        if self._renew is not None:
            self._renew()

    def _heartbeat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.check()
            except LockLost as exc:
                log.warning("%s", exc.message)
                return
            except Exception as exc:  # the store is unreachable: keep trying until released
                log.warning("could not renew the state lock lease: %s", exc)

    def release(self) -> None:
        """Stop renewing and give the locks back; a second call does nothing."""
        if self.released:
            return
        self.released = True
        self.abandon()
        self._release()

    def abandon(self) -> None:
        """Stop renewing without giving the locks back: the store is closing under the lease."""
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(timeout=HEARTBEAT_SECONDS)

    def __enter__(self) -> LockLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def acquire_in_order(
    apps: Sequence[str],
    *,
    try_lock: Callable[[str], bool],
    holder_of: Callable[[str], LockHolder | None],
    unlock: Callable[[Sequence[str]], object],
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> list[str]:
    """Lock every app in sorted order, polling each until `timeout` seconds have passed overall.

    `try_lock(app)` makes one attempt; `holder_of(app)` names who is in the way. Returns the
    apps locked; on failure unlocks them and raises LockNotAcquired.
    """
    deadline = clock() + max(timeout, 0.0)
    taken: list[str] = []
    for app in sorted(set(apps)):
        while not try_lock(app):
            remaining = deadline - clock()
            if remaining <= 0:
                unlock(taken)
                raise lock_conflict(app, holder_of(app), timeout=timeout)
            sleep(min(POLL_INTERVAL, remaining))
        taken.append(app)
    return taken


def lock_conflict(app: str, holder: LockHolder | None, *, timeout: float) -> LockNotAcquired:
    waited = f"after waiting {timeout:g}s" if timeout > 0 else "without waiting"
    if holder is None:
        return LockNotAcquired(
            f"the state lock of app {app} is held by another run ({waited})",
            hint="wait and try again; the holder had not yet recorded who it is",
        )
    if holder_is_dead(holder):
        return LockNotAcquired(
            f"the state lock of app {app} is held by {holder.describe()} ({waited}); "
            "that process is no longer running on this host",
            hint=f"check nothing else uses it, then `pushctl force-unlock {holder.lock_id}`",
        )
    return LockNotAcquired(
        f"the state lock of app {app} is held by {holder.describe()} ({waited})",
        hint=f"wait, or `pushctl force-unlock {holder.lock_id}` if that run is dead",
    )


def lock_lost(app: str, lock_id: str, *, holder: LockHolder | None) -> LockLost:
    """The error for a run whose lock on `app` is no longer its own."""
    now = f"now held by {holder.describe()}" if holder is not None else "no longer recorded"
    return LockLost(
        f"the state lock of app {app} (lock id {lock_id}) was taken from this run: {now}",
        hint="this run stopped before its next TPNS call; run `pushctl plan` and apply again",
    )


def takeover_reason(
    holder: LockHolder, *, expires_at: float | None, now: float, host: str | None = None
) -> str | None:
    """Why another run may take this lock over, or None while its holder may be alive."""
    if expires_at is not None and expires_at <= now:
        return f"its lease expired {now - expires_at:.0f}s ago"
    if holder_is_dead(holder, host=host):
        return "its process is no longer running on this host"
    return None


def holder_is_dead(holder: LockHolder, *, host: str | None = None) -> bool:
    """True only when the holder ran on this host and its process is gone.

    A lock held from another host is never judged: its process cannot be seen from here. A
    holder recorded with its process identity is judged only from the same boot and pid
    namespace; there a pid now owned by a younger process counts as gone.
    """
    if holder.host != (host or socket.gethostname()) or not holder.pid:
        return False
    if holder.process is not None:
        mine = process_identity(os.getpid())
        if mine is None or _boot_and_namespace(mine) != _boot_and_namespace(holder.process):
            return False
        current = process_identity(holder.pid)
        if current is not None and current != holder.process:
            return True  # the pid was given to another process
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def process_identity(pid: int) -> str | None:
    """`boot id/pid namespace/start time` of a running process, or None when unreadable."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (start time in clock ticks since boot) counts from after the command name,
    # which is in parentheses and may itself hold spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{boot}/{namespace}/{fields[19]}" if len(fields) > 19 else None


def _boot_and_namespace(identity: str) -> str:
    return identity.rsplit("/", 1)[0]
