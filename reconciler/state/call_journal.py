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
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import StateError
from reconciler.records import TaskCall
from reconciler.state.audit import AuditEntry, StoredAuditRecord


class TaskCallJournal(ABC):
    """The `pushctl_task_calls` table, over the store's own transactions."""

    location: str

    @abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[None]: ...

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _append_audit(self, record: AuditEntry) -> StoredAuditRecord: ...

    def open_call(self, call: TaskCall) -> None:
        """Record a stop, recall or cancel about to leave; durable when this returns."""
        with self._transaction(write=True):
            if self._run("SELECT 1 FROM pushctl_task_calls WHERE call_id = ?", (call.call_id,)):
                raise StateError(
                    f"call {call.call_id} for {call.address} is already recorded",
                    hint="each stop, recall or cancel needs its own call id",
                )
            self._run(
                "INSERT INTO pushctl_task_calls (call_id, app, address, doc) VALUES (?, ?, ?, ?)",
                (call.call_id, call.app, call.address, call.model_dump_json()),
            )

    def close_call(self, call_id: str, *, outcome: str, record: AuditEntry) -> None:
        """Close an open call and append its audit outcome record, in one transaction."""
        with self._transaction(write=True):
            rows = self._run("SELECT outcome FROM pushctl_task_calls WHERE call_id = ?", (call_id,))
            if not rows or rows[0][0] is not None:
                state = "unknown" if not rows else f"already closed ({rows[0][0]})"
                raise StateError(
                    f"call {call_id} is {state} in {self.location}",
                    hint="close only calls listed by open_calls()",
                )
            self._run(
                "UPDATE pushctl_task_calls SET outcome = ?, closed_at = ? WHERE call_id = ?",
                (outcome, datetime.now(UTC).isoformat(), call_id),
            )
            self._append_audit(record)

    def open_calls(self, app: str | None = None) -> list[TaskCall]:
        with self._transaction(write=False):
            return self._open_calls(app)

    def _open_calls(self, app: str | None) -> list[TaskCall]:
        sql = "SELECT doc FROM pushctl_task_calls WHERE outcome IS NULL"
        rows = self._run(sql) if app is None else self._run(f"{sql} AND app = ?", (app,))
        return sorted(
            (TaskCall.model_validate_json(doc) for (doc,) in rows),
            key=lambda c: (c.created_at, c.call_id),
        )

    def task_calls(self) -> list[tuple[TaskCall, str | None]]:
        """Every recorded call with its outcome (None while open), oldest first."""
        with self._transaction(write=False):
            rows = self._run("SELECT doc, outcome FROM pushctl_task_calls")
        calls = [(TaskCall.model_validate_json(doc), outcome) for doc, outcome in rows]
        return sorted(calls, key=lambda pair: (pair[0].created_at, pair[0].call_id))
