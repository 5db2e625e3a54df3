"""The journal of stops, recalls and cancels: a record before each call leaves, an outcome after.

TPNS answers a stop by changing the task's status, and nothing in a later read says who changed
it. So each call is recorded right before it leaves and closed, in the same transaction as its
audit outcome record, once its answer is known: from TPNS, or at the next run from the task's
live status. An interrupted call therefore never ends without an outcome in the audit log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import StateError
from reconciler.records import TaskCall
from reconciler.state.audit import AuditEntry, StoredAuditRecord


@dataclass(frozen=True)
class JournalTable:
    """A write-ahead table: a row per record (`key`, app, address, doc) with its outcome."""

    table: str
    key: str
    #: What one record is called in errors ("intent", "call"), and what each needs its own of.
    noun: str
    one_per: str


INTENTS = JournalTable("pushctl_intents", "intent_id", "intent", "each /v3/push/app call")
TASK_CALLS = JournalTable("pushctl_task_calls", "call_id", "call", "each stop, recall or cancel")


class WriteAheadJournal(ABC):
    """Rows opened before a TPNS call leaves and closed with its outcome, over the store's own
    transactions: the push intents and the task calls share these steps."""

    location: str

    @abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[None]: ...

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def _write_ahead(self) -> AbstractContextManager[None]:
        """The write transaction of a write-ahead record: on the disk when it commits.

        A backend whose every commit reaches the disk needs nothing more; SQLite flushes only
        these commits (see sqlite.py).
        """
        return self._transaction(write=True)

    def _journal_open(
        self, journal: JournalTable, key: str, *, app: str, address: str, doc: str
    ) -> None:
        """Insert an open record; call inside a write transaction."""
        t = journal.table
        if self._run(f"SELECT 1 FROM {t} WHERE {journal.key} = ?", (key,)):
            raise StateError(
                f"{journal.noun} {key} for {address} is already recorded",
                hint=f"{journal.one_per} needs its own {journal.noun} id",
            )
        self._run(
            f"INSERT INTO {t} ({journal.key}, app, address, doc) VALUES (?, ?, ?, ?)",
            (key, app, address, doc),
        )

    def _journal_require_open(self, journal: JournalTable, key: str) -> None:
        """Refuse to close a record that is unknown or already closed."""
        rows = self._run(f"SELECT outcome FROM {journal.table} WHERE {journal.key} = ?", (key,))
        if not rows or rows[0][0] is not None:
            state = "unknown" if not rows else f"already closed ({rows[0][0]})"
            raise StateError(
                f"{journal.noun} {key} is {state} in {self.location}",
                hint=f"close only {journal.noun}s listed by open_{journal.noun}s()",
            )

    def _journal_open_docs(self, journal: JournalTable, app: str | None) -> list[str]:
        sql = f"SELECT doc FROM {journal.table} WHERE outcome IS NULL"
        rows = self._run(sql) if app is None else self._run(f"{sql} AND app = ?", (app,))
        return [doc for (doc,) in rows]


class TaskCallJournal(WriteAheadJournal):
    """The `pushctl_task_calls` table."""

    @abstractmethod
    def _append_audit(self, record: AuditEntry) -> StoredAuditRecord: ...

    def open_call(self, call: TaskCall, *, record: AuditEntry) -> None:
        """Record a stop, recall or cancel about to leave and append its audit intent record,
        in one transaction; on the disk when this returns."""
        with self._write_ahead():
            self._journal_open(
                TASK_CALLS,
                call.call_id,
                app=call.app,
                address=call.address,
                doc=call.model_dump_json(),
            )
            self._append_audit(record)

    def close_call(self, call_id: str, *, outcome: str, record: AuditEntry) -> None:
        """Close an open call and append its audit outcome record, in one transaction."""
        with self._transaction(write=True):
            self._journal_require_open(TASK_CALLS, call_id)
            self._run(
                "UPDATE pushctl_task_calls SET outcome = ?, closed_at = ? WHERE call_id = ?",
                (outcome, datetime.now(UTC).isoformat(), call_id),
            )
            self._append_audit(record)

    def open_calls(self, app: str | None = None) -> list[TaskCall]:
        with self._transaction(write=False):
            return self._open_calls(app)

    def _open_calls(self, app: str | None) -> list[TaskCall]:
        return sorted(
            (TaskCall.model_validate_json(doc) for doc in self._journal_open_docs(TASK_CALLS, app)),
            key=lambda c: (c.created_at, c.call_id),
        )

    def task_calls(self) -> list[tuple[TaskCall, str | None]]:
        """Every recorded call with its outcome (None while open), oldest first."""
        with self._transaction(write=False):
            rows = self._run("SELECT doc, outcome FROM pushctl_task_calls")
        calls = [(TaskCall.model_validate_json(doc), outcome) for doc, outcome in rows]
        return sorted(calls, key=lambda pair: (pair[0].created_at, pair[0].call_id))
