"""The shared state backend: a PostgreSQL database, for CI runners on several machines.

App locks are session-level advisory locks held by a connection the lease keeps open, plus a
row naming the holder with a lease expiry in the database's clock. A session that ends (an
idle timeout, a failover, a pooler) does not prove its run dead, so the row keeps the lock
until its lease expires or its process is gone from this host; the run itself notices the
lost session at its next `LockLease.check` and stops. Rows written before leases existed
(expires_at NULL) hold only while their session holds the advisory lock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from reconciler.errors import LockLost, StateError
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

#: Key of the transaction lock that serialises schema creation between first users.
SCHEMA_LOCK_KEY = 0x7075_7368_6374_6C00  # "pushctl\0"
#: Milliseconds force-unlock waits for a terminated session to end.
TERMINATE_WAIT_MS = 5000

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pushctl_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_app_serials (app TEXT PRIMARY KEY, serial BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_bindings "
    "(address TEXT PRIMARY KEY, app TEXT NOT NULL, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_tombstones "
    "(address TEXT PRIMARY KEY, app TEXT NOT NULL, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushctl_intents (intent_id TEXT PRIMARY KEY, app TEXT NOT NULL, "
    "address TEXT NOT NULL, doc TEXT NOT NULL, push_id TEXT, outcome TEXT, closed_at TEXT)",
    # Added after schema 1 shipped: an older database gets it here, empty.
    "CREATE TABLE IF NOT EXISTS pushctl_task_calls (call_id TEXT PRIMARY KEY, app TEXT NOT NULL, "
    "address TEXT NOT NULL, doc TEXT NOT NULL, outcome TEXT, closed_at TEXT)",
    "CREATE TABLE IF NOT EXISTS pushctl_locks (app TEXT PRIMARY KEY, lock_id TEXT NOT NULL, "
    "lock_key BIGINT NOT NULL, backend_pid INTEGER NOT NULL, doc TEXT NOT NULL, "
    "expires_at DOUBLE PRECISION)",
    # State written before leases existed.
    "ALTER TABLE pushctl_locks ADD COLUMN IF NOT EXISTS expires_at DOUBLE PRECISION",
    "CREATE TABLE IF NOT EXISTS pushctl_audit (seq BIGINT PRIMARY KEY, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL, address TEXT, body TEXT NOT NULL, mac TEXT)",
    # A store made before audit MACs existed gets the column; its records stay version 1.
    "ALTER TABLE pushctl_audit ADD COLUMN IF NOT EXISTS mac TEXT",
    "CREATE INDEX IF NOT EXISTS pushctl_audit_address ON pushctl_audit (address)",
    "CREATE TABLE IF NOT EXISTS pushctl_calls (app TEXT NOT NULL, path TEXT NOT NULL, "
    "at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pushctl_calls_app_path_at ON pushctl_calls (app, path, at)",
)

# True when the row's session still holds its advisory lock in this database. A bigint key
# shows in pg_locks as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
LIVE_LOCK = (
    "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted"
    " AND l.pid = k.backend_pid AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND l.classid::bigint = (k.lock_key >> 32) AND l.objid::bigint = (k.lock_key & 4294967295))"
)
#: The database's clock, in unix seconds: one clock for runners on several hosts.
DB_NOW = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"
#: True while a lock row keeps its app locked.
HELD = f"({LIVE_LOCK} OR k.expires_at > {DB_NOW})"


def app_lock_key(app: str) -> int:
    """A stable, non-negative 63-bit advisory lock key for an app."""
    digest = hashlib.sha256(b"pushctl-app-lock:" + app.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def describe_url(url: str) -> str:
    """user@host/db of a connection URL, without the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(unparsable URL)"
    host = parts.get("host") or "localhost"
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}/{parts.get('dbname') or ''}"


class PostgresStateStore(SqlStateStore):
    lock_rows_clause = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self._url = url
        self.location = describe_url(url)
        self._mutex = threading.RLock()
        self._lease_sessions: list[psycopg.Connection[Row]] = []
        self._leases: list[LockLease] = []
        self._conn = self._connect()
        with self._transaction(write=True):
            self._run("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
            for statement in SCHEMA:
                self._run(statement)
            self._init_meta()

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            return psycopg.connect(self._url, autocommit=True)
        except psycopg.Error as exc:
            raise StateError(
                f"cannot connect to the state database {self.location}: {exc}".strip(),
                hint="check the `state:` URL in pushctl.yaml and that the server accepts you",
            ) from exc

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[None]:
        with self._mutex:
            try:
                with self._conn.transaction():
                    if not write:
                        # One consistent view for multi-statement reads such as snapshot().
                        self._run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    yield
            except psycopg.Error as exc:
                raise self._failure(exc) from exc

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return _execute(self._conn, sql, params)

    def _failure(self, exc: psycopg.Error) -> StateError:
        return StateError(
            f"state database {self.location}: {exc}".strip(),
            hint="check that the server is up and reachable, then run the command again",
        )

    def close(self) -> None:
        """Close the connection and any lease sessions, freeing their locks as an exit would."""
        for lease in self._leases:
            lease.abandon()
        with self._mutex:
            for session in self._lease_sessions:
                session.close()
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
        # The lease's own session holds the advisory locks until released or closed.
        session = self._connect()
        self._lease_sessions.append(session)

        def try_lock(app: str) -> bool:
            key = app_lock_key(app)
            if not _execute(session, "SELECT pg_try_advisory_lock(?)", (key,))[0][0]:
                # A session can outlive its run (a stalled or killed process): end it once
                # the row shows its holder provably gone, then try again.
                if not self._end_session_of_gone_holder(app):
                    return False
                if not _execute(session, "SELECT pg_try_advisory_lock(?)", (key,))[0][0]:
                    return False
            with session.transaction():
                rows = _execute(
                    session,
                    f"SELECT k.doc, k.expires_at, {DB_NOW} FROM pushctl_locks k "
                    "WHERE k.app = ? FOR UPDATE",
                    (app,),
                )
                free = not rows or _may_take_over(app, rows[0])
                if free:
                    _execute(
                        session,
                        "INSERT INTO pushctl_locks (app, lock_id, lock_key, backend_pid, doc, "
                        f"expires_at) VALUES (?, ?, ?, pg_backend_pid(), ?, {DB_NOW} + ?) "
                        "ON CONFLICT (app) DO UPDATE SET lock_id = excluded.lock_id, "
                        "lock_key = excluded.lock_key, backend_pid = excluded.backend_pid, "
                        "doc = excluded.doc, expires_at = excluded.expires_at",
                        (app, holder.lock_id, key, holder.model_dump_json(), LEASE_SECONDS),
                    )
            if not free:
                _execute(session, "SELECT pg_advisory_unlock(?)", (key,))
            return free

        def release() -> None:
            if not _unlock(session, holder.lock_id, taken):
                self._delete_rows(holder.lock_id, taken)
            self._end_session(session)

        try:
            taken = acquire_in_order(
                apps,
                try_lock=try_lock,
                holder_of=self._holder_of,
                unlock=lambda locked: _unlock(session, holder.lock_id, locked),
                timeout=timeout,
                clock=clock,
                sleep=sleep,
            )
        except BaseException:
            self._end_session(session)
            raise
        lease = LockLease(
            holder, taken, release, renew=lambda: self._renew(session, holder.lock_id, taken)
        )
        self._leases.append(lease)
        return lease

    def _end_session_of_gone_holder(self, app: str) -> bool:
        with self._transaction(write=True):
            rows = self._run(
                f"SELECT k.doc, k.expires_at, {DB_NOW}, k.backend_pid FROM pushctl_locks k "
                f"WHERE k.app = ? AND {LIVE_LOCK}",
                (app,),
            )
            if not rows:
                return False
            doc, expires_at, now, pid = rows[0]
            previous = LockHolder.model_validate_json(doc)
            expiry = None if expires_at is None else float(expires_at)
            if takeover_reason(previous, expires_at=expiry, now=float(now)) is None:
                return False
            ended = self._run("SELECT pg_terminate_backend(?, ?)", (pid, TERMINATE_WAIT_MS))
        return bool(ended[0][0])

    def _renew(self, session: psycopg.Connection[Row], lock_id: str, apps: Sequence[str]) -> None:
        """Extend the lease through the lease's own session; a session gone is a lock lost."""
        try:
            renewed = _execute(
                session,
                f"UPDATE pushctl_locks SET expires_at = {DB_NOW} + ? "
                "WHERE lock_id = ? AND backend_pid = pg_backend_pid() RETURNING app",
                (LEASE_SECONDS, lock_id),
            )
        except psycopg.Error as exc:
            raise LockLost(
                f"the database session holding the state locks of {', '.join(apps)} "
                f"(lock id {lock_id}) ended: {exc}".strip(),
                hint="this run stopped before its next TPNS call; "
                "run `pushctl plan` and apply again",
            ) from exc
        missing = sorted(set(apps) - {app for (app,) in renewed})
        if missing:
            raise lock_lost(missing[0], lock_id, holder=self._holder_of(missing[0]))

    def _delete_rows(self, lock_id: str, apps: Sequence[str]) -> None:
        """Remove this run's lock rows, through the store's connection: the lease session may
        be the one that ended."""
        try:
            with self._transaction(write=True):
                for app in apps:
                    self._run(
                        "DELETE FROM pushctl_locks WHERE app = ? AND lock_id = ?", (app, lock_id)
                    )
        except StateError as exc:
            log.warning("could not give back the state locks (lock id %s): %s", lock_id, exc)

    def _end_session(self, session: psycopg.Connection[Row]) -> None:
        # Closing the session frees every advisory lock it still holds.
        session.close()
        with self._mutex:
            if session in self._lease_sessions:
                self._lease_sessions.remove(session)

    def _holder_of(self, app: str) -> LockHolder | None:
        rows = self._live_locks("AND k.app = ?", (app,))
        return rows[0].holder if rows else None

    def _live_locks(self, condition: str = "", params: Sequence[Any] = ()) -> list[AppLock]:
        with self._transaction(write=False):
            rows = self._run(
                f"SELECT k.app, k.doc FROM pushctl_locks k WHERE {HELD} {condition} ORDER BY k.app",
                params,
            )
        return [AppLock(app=app, holder=LockHolder.model_validate_json(doc)) for app, doc in rows]

    def list_locks(self) -> list[AppLock]:
        return self._live_locks()

    def force_unlock(self, lock_id: str) -> LockHolder:
        with self._transaction(write=True):
            rows = self._run(
                f"SELECT k.doc, k.backend_pid, {LIVE_LOCK} FROM pushctl_locks k "
                "WHERE k.lock_id = ? FOR UPDATE",
                (lock_id,),
            )
            if not rows:
                raise StateError(
                    f"no lock with id {lock_id} in {self.location}",
                    hint="`pushctl state locks` lists the locks held and their ids",
                )
            for pid in sorted({pid for _, pid, live in rows if live}):
                self._terminate(pid, lock_id)
            self._run("DELETE FROM pushctl_locks WHERE lock_id = ?", (lock_id,))
        return LockHolder.model_validate_json(rows[0][0])

    def _terminate(self, pid: int, lock_id: str) -> None:
        ended = self._run("SELECT pg_terminate_backend(?, ?)", (pid, TERMINATE_WAIT_MS))[0][0]
        if not ended:
            raise StateError(
                f"could not end session {pid} holding lock {lock_id} in {self.location}",
                hint="ask a database administrator to run SELECT pg_terminate_backend(...)",
            )


def _execute(conn: psycopg.Connection[Row], sql: str, params: Sequence[Any]) -> list[Row]:
    cursor = conn.execute(sql.replace("?", "%s"), params)  # statements are written with ?
    return cursor.fetchall() if cursor.description is not None else []


def _may_take_over(app: str, row: Row) -> bool:
    """Inside try_lock, with the advisory lock had: whether the row's holder is provably gone.

    A row without a lease (an older pushctl) held only through its session, now ended.
    """
    doc, expires_at, now = row
    previous = LockHolder.model_validate_json(doc)
    if expires_at is None:
        return True
    reason = takeover_reason(previous, expires_at=float(expires_at), now=float(now))
    if reason is not None:
        log.warning(
            "taking over the state lock of app %s from %s: %s", app, previous.describe(), reason
        )
    return reason is not None


def _unlock(session: psycopg.Connection[Row], lock_id: str, apps: Sequence[str]) -> bool:
    """Delete the rows and free the advisory locks; False when the session had ended."""
    if session.closed:
        return False
    try:
        for app in apps:
            _execute(
                session, "DELETE FROM pushctl_locks WHERE app = ? AND lock_id = ?", (app, lock_id)
            )
            _execute(session, "SELECT pg_advisory_unlock(?)", (app_lock_key(app),))
    except psycopg.OperationalError:
        # The session was ended (force-unlock, idle timeout): its advisory locks are gone.
        return False
    return True
