"""The state store contract (docs/design.md, "State") and `open_store`, which picks the backend.

Calls are synchronous and short; the async engine calls them directly. Every write is committed
before the call returns, so a crash right after `open_intent` still leaves the intent on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from reconciler.errors import StateError
from reconciler.records import Intent, StateSnapshot, TaskBinding, TaskCall
from reconciler.state.audit import AuditEntry, StoredAuditRecord
from reconciler.state.audit_verify import AuditHead, AuditVerification
from reconciler.state.lock import AppLock, LockHolder, LockLease
from reconciler.state.sqlite import SqliteStateStore

__all__ = ["AppLock", "LockHolder", "LockLease", "StateStore", "open_store"]

SQLITE_SCHEME = "sqlite:"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class StateStore(Protocol):
    """What pushctl remembers between runs: bindings, intents, task calls, locks, audit log."""

    #: Where the state lives, for messages (never carries a password).
    location: str

    def snapshot(self) -> StateSnapshot: ...

    def bump_serial(self, apps: Sequence[str] = ()) -> int:
        """Count one apply that changed something; returns the new global serial.

        The serial of each app in `apps` (those the apply changed) moves too, in the same
        transaction, so that a saved plan for another app stays current.
        """
        ...

    def put_binding(self, binding: TaskBinding) -> None: ...

    def remove_binding(self, address: str) -> None:
        """Forget a task; nothing happens when it is not in state."""
        ...

    def forget_binding(self, address: str) -> TaskBinding | None:
        """Forget a task but keep a tombstone (push id, body, content digest), so that a
        manifest restored later adopts the same push instead of sending it again."""
        ...

    def restore_binding(self, address: str, push_id: str) -> TaskBinding | None:
        """Bind `address` again from its tombstone, if the tombstone names `push_id`."""
        ...

    def purge_tombstone(self, address: str) -> TaskBinding | None:
        """Drop the tombstone, so pushctl no longer recognises the push it names."""
        ...

    def get_binding(self, address: str) -> TaskBinding | None: ...

    def list_bindings(self) -> list[TaskBinding]: ...

    def open_intent(self, intent: Intent) -> None:
        """Record a `/v3/push/app` call about to be made; durable when this returns."""
        ...

    def close_intent(self, intent_id: str, *, push_id: str | None, outcome: str) -> None: ...

    def hold_intent(self, intent_id: str, *, until: datetime) -> Intent:
        """Keep an open intent from being concluded "not created" before `until`."""
        ...

    def open_intents(self, app: str | None = None) -> list[Intent]: ...

    def open_call(self, call: TaskCall, *, record: AuditEntry) -> None:
        """Record a stop, recall or cancel about to leave with its audit intent record, in one
        transaction; durable when this returns."""
        ...

    def close_call(self, call_id: str, *, outcome: str, record: AuditEntry) -> None:
        """Close an open call and append its audit outcome record, in one transaction."""
        ...

    def open_calls(self, app: str | None = None) -> list[TaskCall]: ...

    def task_calls(self) -> list[tuple[TaskCall, str | None]]:
        """Every recorded call with its outcome (None while open), oldest first."""
        ...

    def record_calls(self, app: str, path: str, times: Sequence[float]) -> None:
        """Log TPNS calls made on `path` for `app` at these unix times (rate-limit history).

        Durable when this returns. Entries more than a day older than the newest time written
        are pruned for that app and path.
        """
        ...

    def move_call(self, app: str, path: str, *, sent_at: float, answered_at: float) -> None:
        """Move a logged call from the time it was sent to the time its answer came.

        Durable when this returns. Of several calls logged at `sent_at`, one moves; a call not in
        the log (pruned) is logged at `answered_at` all the same.
        """
        ...

    def calls_since(self, app: str, path: str, since: float) -> list[float]:
        """Times of the logged calls on `path` for `app` at or after `since`, oldest first."""
        ...

    def acquire(
        self,
        apps: Sequence[str],
        holder: LockHolder,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LockLease:
        """Lock the apps in sorted order, waiting up to `timeout` seconds in all.

        A lock whose lease expired, or whose holder's process is gone from this host, is taken
        over. Raises LockNotAcquired naming the holder when one cannot be had. The lease
        renews itself; call its `check()` before each mutating TPNS call (LockLost if lost).
        """
        ...

    def list_locks(self) -> list[AppLock]: ...

    def force_unlock(self, lock_id: str) -> LockHolder:
        """Take away a dead run's locks; StateError when no lock has that id."""
        ...

    def use_audit_key(self, key: bytes | None) -> None:
        """MAC the audit records appended from now on with `key`, and check MACs on verify."""
        ...

    def append_audit(self, record: AuditEntry) -> StoredAuditRecord: ...

    def audit_records(self, *, address: str | None = None) -> list[StoredAuditRecord]: ...

    def audit_head(self) -> AuditHead: ...

    def verify_audit(self, *, expect_head: AuditHead | None = None) -> AuditVerification: ...

    def export_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Everything but the locks, for `state migrate`."""
        ...

    def import_rows(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """Load `export_rows()` of another store into this empty one."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def open_store(url: str, *, base_dir: Path) -> StateStore:
    """Open (creating on first use) the store named by pushctl.yaml's `state:` value.

    `sqlite:PATH` is a file, relative to `base_dir` unless absolute; `postgresql://...` a
    database shared by several runners.
    """
    if url.startswith(SQLITE_SCHEME):
        path = Path(url.removeprefix(SQLITE_SCHEME))
        if not str(path) or str(path) == ".":
            raise StateError(
                f"state URL {url!r} names no file",
                hint="write e.g. state: sqlite:.pushctl/state.db",
            )
        return SqliteStateStore(path if path.is_absolute() else base_dir / path)
    if url.startswith(POSTGRES_SCHEMES):
        # Imported here: psycopg costs every command time, and only PostgreSQL state needs it.
        from reconciler.state.postgres import PostgresStateStore  # noqa: PLC0415

        return PostgresStateStore(url)
    raise StateError(
        f"unknown state URL {url.split(':', 1)[0]!r}",
        hint="use sqlite:.pushctl/state.db or postgresql://user@host/db in pushctl.yaml `state:`",
    )
