"""The default state backend: one SQLite file (WAL), safe for several pushctl processes.

Writers take the database's write lock up front (BEGIN IMMEDIATE), so a lock row is inserted
only after checking, in the same transaction, that no other run holds the app. A lock whose
lease expired, or whose process died on this host, is taken over; any other stays until
`pushctl force-unlock`.

Durability (docs/reliability.md): every commit is in the WAL file when it returns, so a killed
pushctl loses none. Write-ahead records (push intents, their holds, stop/recall/cancel calls)
are also flushed to the disk before their request leaves (`synchronous = FULL` for their
commit); other commits are flushed with the next of them or at a checkpoint (`NORMAL`), so
a power cut can lose only what a kill right after the last write-ahead record would have.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.errors import StateError
from reconciler.state.lock import (
    LEASE_SECONDS,
    AppLock,
    LockHolder,
    LockLease,
    acquire_in_order,
    lock_lost,
    takeover_reason,
)
from reconciler.state.sql_store import Row, SqlStateStore

log = logging.getLogger(__name__)

#: Seconds a statement waits for another process's write transaction before failing.
BUSY_TIMEOUT = 10.0
#: `synchronous` of write-ahead records' commits, and of every other commit.
FLUSHED = "FULL"
UNFLUSHED = "NORMAL"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pushctl_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_app_serials "
    "(app TEXT PRIMARY KEY, serial INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_bindings "
    "(address TEXT PRIMARY KEY, app TEXT NOT NULL, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_tombstones "
    "(address TEXT PRIMARY KEY, app TEXT NOT NULL, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_intents (intent_id TEXT PRIMARY KEY, app TEXT NOT NULL, "
    "address TEXT NOT NULL, doc TEXT NOT NULL, push_id TEXT, outcome TEXT, closed_at TEXT)",
    # Added after schema 1 shipped: an older file gets it here, empty.
    "CREATE TABLE IF NOT EXISTS pushctl_task_calls (call_id TEXT PRIMARY KEY, app TEXT NOT NULL, "
    "address TEXT NOT NULL, doc TEXT NOT NULL, outcome TEXT, closed_at TEXT)",
    "CREATE TABLE IF NOT EXISTS pushctl_locks (app TEXT PRIMARY KEY, lock_id TEXT NOT NULL, "
    "doc TEXT NOT NULL, expires_at REAL)",
    "CREATE TABLE IF NOT EXISTS pushctl_audit (seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL, address TEXT, body TEXT NOT NULL, mac TEXT)",
    "CREATE INDEX IF NOT EXISTS pushctl_audit_address ON pushctl_audit (address)",
    "CREATE TABLE IF NOT EXISTS pushctl_calls (app TEXT NOT NULL, path TEXT NOT NULL, "
    "at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pushctl_calls_app_path_at ON pushctl_calls (app, path, at)",
)


class SqliteStateStore(SqlStateStore):
    def __init__(self, path: Path, *, wall: Callable[[], float] = time.time) -> None:
        self.path = path
        self.location = str(path)
        #: Unix time that lock leases are measured in.
        self._wall = wall
        # One connection, used from whichever thread the engine runs a call on; the mutex
        # keeps its transactions from interleaving.
        self._mutex = threading.RLock()
        self._leases: list[LockLease] = []
        self._conn = self._connect(path)
        with self._transaction(write=True):
            for statement in SCHEMA:
                self._run(statement)
            # Files made by earlier versions: audit MACs (their records stay version 1) and
            # lock leases (their lock rows, expires_at NULL, never expire).
            self._add_missing_column("pushctl_audit", "mac", "TEXT")
            self._add_missing_column("pushctl_locks", "expires_at", "REAL")
            self._init_meta()

    def _add_missing_column(self, table: str, column: str, kind: str) -> None:
        columns = {str(row[1]) for row in self._run(f"PRAGMA table_info({table})")}
        if column not in columns:
            self._run(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _connect(self, path: Path) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit is written to the WAL (a kill loses nothing) but not flushed;
            # `_write_ahead` flushes the records that keep a call from being sent twice.
            conn.execute(f"PRAGMA synchronous={UNFLUSHED}")
        except (OSError, sqlite3.Error) as exc:
            raise StateError(
                f"cannot open the state file {path}: {exc}",
                hint="check the `state:` path in pushctl.yaml and that the folder is writable",
            ) from exc
        return conn

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[None]:
        with self._mutex:
            try:
                self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise self._failure(exc) from exc
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _write_ahead(self) -> Iterator[None]:
        """A write transaction flushed to the disk at its commit, with every commit before it.

        One flush a call, not one a commit: the flush of the WAL also carries the unflushed
        commits ahead of it.
        """
        with self._mutex:
            self._conn.execute(f"PRAGMA synchronous={FLUSHED}")
            try:
                with self._transaction(write=True):
                    yield
            finally:
                self._conn.execute(f"PRAGMA synchronous={UNFLUSHED}")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: sqlite3.Error) -> StateError:
        return StateError(
            f"state file {self.path}: {exc}",
            hint="if another pushctl is busy with it, retry; if the file is damaged, restore it",
        )

    def close(self) -> None:
        """Close the connection; leases still held stop renewing, as at an exit."""
        for lease in self._leases:
            lease.abandon()
        with self._mutex:
            self._conn.close()

    # -- locks ----------------------------------------------------------------------------

    def acquire(
        self,
        apps: Sequence[str],
        holder: LockHolder,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LockLease:
        def try_lock(app: str) -> bool:
            with self._transaction(write=True):
                rows = self._run("SELECT doc, expires_at FROM pushctl_locks WHERE app = ?", (app,))
                if rows and not self._take_over(app, rows[0]):
                    return False
                self._run(
                    "INSERT INTO pushctl_locks (app, lock_id, doc, expires_at) VALUES (?, ?, ?, ?)",
                    (app, holder.lock_id, holder.model_dump_json(), self._wall() + LEASE_SECONDS),
                )
                return True

        taken = acquire_in_order(
            apps,
            try_lock=try_lock,
            holder_of=self._holder_of,
            unlock=lambda locked: self._unlock(holder.lock_id, locked),
            timeout=timeout,
            clock=clock,
            sleep=sleep,
        )
        lease = LockLease(
            holder,
            taken,
            lambda: self._unlock(holder.lock_id, taken),
            renew=lambda: self._renew(holder.lock_id, taken),
        )
        self._leases.append(lease)
        return lease

    def _take_over(self, app: str, row: Row) -> bool:
        """Inside try_lock's transaction: remove the row of a holder provably gone."""
        doc, expires_at = row
        previous = LockHolder.model_validate_json(doc)
        reason = takeover_reason(previous, expires_at=expires_at, now=self._wall())
        if reason is None:
            return False
        log.warning(
            "taking over the state lock of app %s from %s: %s", app, previous.describe(), reason
        )
        self._run("DELETE FROM pushctl_locks WHERE app = ?", (app,))
        return True

    def _renew(self, lock_id: str, apps: Sequence[str]) -> None:
        with self._transaction(write=True):
            renewed = self._run(
                "UPDATE pushctl_locks SET expires_at = ? WHERE lock_id = ? RETURNING app",
                (self._wall() + LEASE_SECONDS, lock_id),
            )
        missing = sorted(set(apps) - {app for (app,) in renewed})
        if missing:
            raise lock_lost(missing[0], lock_id, holder=self._holder_of(missing[0]))

    def _holder_of(self, app: str) -> LockHolder | None:
        with self._transaction(write=False):
            rows = self._run("SELECT doc FROM pushctl_locks WHERE app = ?", (app,))
        return LockHolder.model_validate_json(rows[0][0]) if rows else None

    def _unlock(self, lock_id: str, apps: Sequence[str]) -> None:
        with self._transaction(write=True):
            for app in apps:
                self._run("DELETE FROM pushctl_locks WHERE app = ? AND lock_id = ?", (app, lock_id))

    def list_locks(self) -> list[AppLock]:
        with self._transaction(write=False):
            rows = self._run("SELECT app, doc FROM pushctl_locks ORDER BY app")
        return [AppLock(app=app, holder=LockHolder.model_validate_json(doc)) for app, doc in rows]

    def force_unlock(self, lock_id: str) -> LockHolder:
        with self._transaction(write=True):
            rows = self._run("SELECT doc FROM pushctl_locks WHERE lock_id = ?", (lock_id,))
            if not rows:
                raise unknown_lock(lock_id, self.location)
            self._run("DELETE FROM pushctl_locks WHERE lock_id = ?", (lock_id,))
        return LockHolder.model_validate_json(rows[0][0])


def unknown_lock(lock_id: str, location: str) -> StateError:
    return StateError(
        f"no lock with id {lock_id} in {location}",
        hint="`pushctl state locks` lists the locks held and their ids",
    )
