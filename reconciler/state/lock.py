"""Per-app locks: who holds them, the lease a run keeps, and the polling both backends share.

A run that touches several apps takes their locks one by one in sorted order, so two runs
never wait on each other in a cycle; when one lock cannot be had in time, the ones already
taken are given back before the error is raised.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType

from reconciler.errors import LockNotAcquired
from reconciler.records import Frozen

#: Seconds between two attempts on a lock another run holds.
POLL_INTERVAL = 0.5


class LockHolder(Frozen):
    """The run that holds (or asks for) the locks of some apps."""

    lock_id: str
    user: str
    host: str
    run_id: str
    commit: str | None = None
    pid: int
    acquired_at: datetime

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
    """The locks a run holds; give them back with `release()` or by leaving the `with` block."""

    def __init__(
        self, holder: LockHolder, apps: Sequence[str], release: Callable[[], None]
    ) -> None:
        self.holder = holder
        self.apps = tuple(apps)
        self._release = release
        self.released = False

    def release(self) -> None:
        """Give the locks back; a second call does nothing."""
        if not self.released:
            self.released = True
            self._release()

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
    unlock: Callable[[Sequence[str]], None],
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


def holder_is_dead(holder: LockHolder, *, host: str | None = None) -> bool:
    """True only when the holder ran on this host and its process is gone.

    A lock held from another host is never judged: its process cannot be seen from here.
    """
    if holder.host != (host or socket.gethostname()) or not holder.pid:
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False
