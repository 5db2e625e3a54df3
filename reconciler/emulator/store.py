"""SQLite persistence of the emulator: apps, tasks, ledger, statistics calls, faults, counters.

One connection per core (guarded by a lock, so the uvicorn thread and a test thread can share it);
several processes may open the same file: WAL journal, `BEGIN IMMEDIATE` for every unit of work
and a busy timeout keep their writes serial.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.emulator.lifecycle import TaskIndexEntry, TaskRow
from reconciler.emulator.push_rules import BROADCAST_AUDIENCES
from reconciler.emulator.settings import AppSpec
from reconciler.emulator.uploads import Package

BUSY_TIMEOUT_MS = 10_000

#: The broadcast audiences as an SQL literal: a partial index is used only by queries whose
#: WHERE repeats its own literally (bound parameters would not match it).
_BROADCAST_IN = "(" + ", ".join(f"'{a}'" for a in sorted(BROADCAST_AUDIENCES)) + ")"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS apps (
    access_id TEXT PRIMARY KEY, secret TEXT NOT NULL, platform TEXT NOT NULL,
    recall_enabled INTEGER NOT NULL, rate_limits INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    push_id INTEGER PRIMARY KEY, access_id TEXT NOT NULL, body TEXT NOT NULL,
    audience_type TEXT NOT NULL, message_type TEXT NOT NULL, environment TEXT NOT NULL,
    title TEXT NOT NULL, content TEXT NOT NULL, created_at REAL NOT NULL, send_at REAL,
    expire_time INTEGER NOT NULL, collapse_id INTEGER NOT NULL, force_collapse INTEGER NOT NULL,
    pinned_status TEXT, status_at REAL, seeded INTEGER NOT NULL, targets TEXT NOT NULL,
    upload_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_by_app ON tasks (access_id, created_at);
CREATE INDEX IF NOT EXISTS tasks_broadcast ON tasks (access_id, created_at)
    WHERE seeded = 0 AND audience_type IN {_BROADCAST_IN};
CREATE INDEX IF NOT EXISTS tasks_to_all ON tasks (access_id, title, content, created_at)
    WHERE seeded = 0 AND audience_type = 'all';
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, access_id TEXT NOT NULL,
    path TEXT NOT NULL, body TEXT NOT NULL, ret_code INTEGER, push_id TEXT, fault TEXT);
CREATE TABLE IF NOT EXISTS statistics_calls (
    access_id TEXT NOT NULL, path TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT, spec TEXT NOT NULL, remaining INTEGER);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id INTEGER PRIMARY KEY, access_id TEXT NOT NULL, file_name TEXT NOT NULL,
    entry_count INTEGER NOT NULL, shortest INTEGER NOT NULL, longest INTEGER NOT NULL,
    created_at REAL NOT NULL);
"""

LAST_BROADCAST_SQL = (
    "SELECT MAX(created_at) AS at FROM tasks WHERE access_id = ? AND seeded = 0 "
    f"AND audience_type IN {_BROADCAST_IN}"
)
REPEAT_SQL = (
    "SELECT 1 FROM tasks WHERE access_id = ? AND seeded = 0 AND audience_type = 'all' "
    "AND title = ? AND content = ? AND created_at > ? LIMIT 1"
)

_TASK_COLUMNS = (
    "push_id, access_id, body, audience_type, message_type, environment, title, content, "
    "created_at, send_at, expire_time, collapse_id, force_collapse, pinned_status, status_at, "
    "seeded, targets, upload_id"
)


def _task(row: sqlite3.Row) -> TaskRow:
    values = dict(row)
    values["force_collapse"] = bool(values["force_collapse"])
    values["seeded"] = bool(values["seeded"])
    return TaskRow(**values)


class EmulatorStore:
    """Row-level access; callers group calls in `transaction()` so each request is atomic."""

    def __init__(self, db_path: Path | None) -> None:
        self.persistent = db_path is not None
        target = str(db_path) if db_path is not None else ":memory:"
        self._conn = sqlite3.connect(
            target, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # A replaced secret must not linger in a freed page of the file.
        self._conn.execute("PRAGMA secure_delete = ON")
        if self.persistent:
            self._conn.execute("PRAGMA journal_mode = WAL")
            # An emulator needs to survive a killed process, not a power cut: skip the fsyncs.
            self._conn.execute("PRAGMA synchronous = NORMAL")
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; nested use joins the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    # -- meta and counters --------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def next_number(self, key: str, first: int) -> int:
        current = self.meta(key)
        number = first if current is None else int(current)
        self.set_meta(key, str(number + 1))
        return number

    # -- apps ---------------------------------------------------------------------------

    def upsert_app(self, app: AppSpec) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO apps VALUES (?, ?, ?, ?, ?)",
            (app.access_id, app.secret, app.platform, app.recall_enabled, app.rate_limits),
        )

    def scrub(self) -> None:
        """Move the WAL into the file and empty it, so no replaced row survives in either."""
        if self.persistent:
            with self._lock:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def app(self, access_id: str) -> AppSpec | None:
        row = self._conn.execute("SELECT * FROM apps WHERE access_id = ?", (access_id,)).fetchone()
        if row is None:
            return None
        return AppSpec(
            access_id=row["access_id"],
            secret=row["secret"],
            platform=row["platform"],
            recall_enabled=bool(row["recall_enabled"]),
            rate_limits=bool(row["rate_limits"]),
        )

    # -- tasks --------------------------------------------------------------------------

    def insert_task(self, task: TaskRow) -> None:
        placeholders = ", ".join("?" for _ in _TASK_COLUMNS.split(","))
        self._conn.execute(
            f"INSERT INTO tasks ({_TASK_COLUMNS}) VALUES ({placeholders})",
            (
                task.push_id, task.access_id, task.body, task.audience_type, task.message_type,
                task.environment, task.title, task.content, task.created_at, task.send_at,
                task.expire_time, task.collapse_id, task.force_collapse, task.pinned_status,
                task.status_at, task.seeded, task.targets, task.upload_id,
            ),
        )  # fmt: skip

    def task(self, push_id: int) -> TaskRow | None:
        row = self._conn.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE push_id = ?", (push_id,)
        ).fetchone()
        return None if row is None else _task(row)

    def tasks(self, access_id: str | None = None) -> list[TaskRow]:
        """Newest first (by creation, then id), as the range query returns them."""
        query = f"SELECT {_TASK_COLUMNS} FROM tasks"
        params: tuple[Any, ...] = ()
        if access_id is not None:
            query += " WHERE access_id = ?"
            params = (access_id,)
        rows = self._conn.execute(query + " ORDER BY created_at DESC, push_id DESC", params)
        return [_task(row) for row in rows]

    def task_index(self, access_id: str, *, since: float) -> list[TaskIndexEntry]:
        """Every task of the app created at or after `since`, as a light index entry."""
        rows = self._conn.execute(
            "SELECT push_id, COALESCE(send_at, created_at), audience_type, message_type "
            "FROM tasks WHERE access_id = ? AND created_at >= ?",
            (access_id, since),
        )
        return [TaskIndexEntry(int(r[0]), float(r[1]), str(r[2]), str(r[3])) for r in rows]

    def tasks_by_id(self, push_ids: list[int]) -> list[TaskRow]:
        """These tasks, in the order given."""
        if not push_ids:
            return []
        marks = ",".join("?" * len(push_ids))
        rows = self._conn.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE push_id IN ({marks})", push_ids
        )
        by_id = {task.push_id: task for task in map(_task, rows)}
        return [by_id[push_id] for push_id in push_ids]

    def tasks_with_collapse_id(self, access_id: str, collapse_id: int) -> list[TaskRow]:
        rows = self._conn.execute(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE access_id = ? AND collapse_id = ?",
            (access_id, collapse_id),
        )
        return [_task(row) for row in rows]

    def pin_status(self, push_id: int, status: str, at: float) -> None:
        self._conn.execute(
            "UPDATE tasks SET pinned_status = ?, status_at = ? WHERE push_id = ?",
            (status, at, push_id),
        )

    def last_broadcast_at(self, access_id: str) -> float | None:
        """When the app last pushed to all, a tag or an account package (seeds do not count).

        The literal WHERE matches the partial index `tasks_broadcast`, so this costs one index
        probe however many tasks the app has.
        """
        row = self._conn.execute(LAST_BROADCAST_SQL, (access_id,)).fetchone()
        return None if row["at"] is None else float(row["at"])

    def repeated_push_exists(self, access_id: str, title: str, content: str, since: float) -> bool:
        row = self._conn.execute(REPEAT_SQL, (access_id, title, content, since)).fetchone()
        return row is not None

    # -- package uploads ----------------------------------------------------------------

    def insert_upload(self, upload_id: int, access_id: str, package: Package, at: float) -> None:
        self._conn.execute(
            "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                upload_id,
                access_id,
                package.file_name,
                package.entry_count,
                package.shortest,
                package.longest,
                at,
            ),
        )

    def upload(self, access_id: str, upload_id: int) -> Package | None:
        """The package this app uploaded under `upload_id`, if it did."""
        row = self._conn.execute(
            "SELECT file_name, entry_count, shortest, longest FROM uploads "
            "WHERE access_id = ? AND upload_id = ?",
            (access_id, upload_id),
        ).fetchone()
        return None if row is None else Package(*row)

    # -- statistics quota ---------------------------------------------------------------

    def statistics_calls_since(self, access_id: str, path: str, since: float) -> int:
        self._conn.execute("DELETE FROM statistics_calls WHERE at <= ?", (since,))
        row = self._conn.execute(
            "SELECT COUNT(*) AS n FROM statistics_calls WHERE access_id = ? AND path = ?",
            (access_id, path),
        ).fetchone()
        return int(row["n"])

    def statistics_call_counts(self) -> dict[str, dict[str, int]]:
        rows = self._conn.execute(
            "SELECT access_id, path, COUNT(*) AS n FROM statistics_calls GROUP BY access_id, path"
        ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(str(row["access_id"]), {})[str(row["path"])] = int(row["n"])
        return counts

    def record_statistics_call(self, access_id: str, path: str, at: float) -> None:
        self._conn.execute("INSERT INTO statistics_calls VALUES (?, ?, ?)", (access_id, path, at))

    # -- ledger -------------------------------------------------------------------------

    def append_ledger(self, entry: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO ledger (time, access_id, path, body, ret_code, push_id, fault) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry["time"],
                entry["access_id"],
                entry["path"],
                json.dumps(entry["body"]),
                entry["ret_code"],
                entry["push_id"],
                entry["fault"],
            ),
        )

    def ledger(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM ledger ORDER BY seq")
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    # -- faults -------------------------------------------------------------------------

    def replace_faults(self, specs: list[dict[str, Any]]) -> None:
        self._conn.execute("DELETE FROM faults")
        for spec in specs:
            self._conn.execute(
                "INSERT INTO faults (spec, remaining) VALUES (?, ?)",
                (json.dumps(spec), spec.get("count")),
            )

    def has_faults(self) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM faults LIMIT 1").fetchone() is not None

    def faults(self) -> list[tuple[int, dict[str, Any], int | None]]:
        rows = self._conn.execute("SELECT id, spec, remaining FROM faults ORDER BY id")
        return [(row["id"], json.loads(row["spec"]), row["remaining"]) for row in rows]

    def consume_fault(self, fault_id: int, remaining: int | None) -> None:
        if remaining is None:
            return
        if remaining <= 1:
            self._conn.execute("DELETE FROM faults WHERE id = ?", (fault_id,))
        else:
            self._conn.execute(
                "UPDATE faults SET remaining = ? WHERE id = ?", (remaining - 1, fault_id)
            )

    # -- reset --------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget tasks, uploads, ledger, quotas, faults and counters; apps stay registered."""
        for table in ("tasks", "ledger", "statistics_calls", "faults", "meta", "uploads"):
            self._conn.execute(f"DELETE FROM {table}")
        self._conn.execute("DELETE FROM sqlite_sequence")
