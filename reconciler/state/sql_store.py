"""The part of the state store both SQL backends share: meta, bindings, intents, call log, audit.

Statements are written once with `?` placeholders; each backend runs them in its own
transactions and adds its own locks. Records are kept as JSON documents so that new record
fields need no schema migration.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from reconciler.errors import AuditError, StateError
from reconciler.records import Intent, StateSnapshot, TaskBinding
from reconciler.state.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRow,
    StoredAuditRecord,
    chain_row,
    stored_record,
)
from reconciler.state.audit_verify import AuditHead, AuditVerification, verify_chain
from reconciler.state.call_journal import INTENTS, TaskCallJournal

SCHEMA_VERSION = "1"

Row = tuple[Any, ...]
AUDIT_SELECT = "SELECT seq, prev_hash, hash, address, body, mac FROM pushctl_audit"
#: What `state migrate` copies, table -> columns (the first orders the rows). Locks stay.
MIGRATED_TABLES: dict[str, tuple[str, ...]] = {
    "pushctl_meta": ("key", "value"),
    "pushctl_app_serials": ("app", "serial"),
    "pushctl_bindings": ("address", "app", "doc"),
    "pushctl_tombstones": ("address", "app", "doc"),
    "pushctl_intents": ("intent_id", "app", "address", "doc", "push_id", "outcome", "closed_at"),
    "pushctl_task_calls": ("call_id", "app", "address", "doc", "outcome", "closed_at"),
    "pushctl_calls": ("at", "app", "path"),
    "pushctl_audit": ("seq", "prev_hash", "hash", "address", "body", "mac"),
}
#: Seconds a logged TPNS call is kept: far beyond any rate-limit window (one hour).
CALL_LOG_RETENTION = 86400.0


class SqlStateStore(TaskCallJournal, ABC):
    """Everything but locking, over any DB-API connection with `?` statements."""

    location: str
    #: Appended to the audit head read, so that concurrent appends queue up (PostgreSQL).
    lock_rows_clause: str = ""
    #: The audit key records are MAC'd with and verified against (None: hash chain only).
    _audit_key: bytes | None = None

    @abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[None]:
        """A transaction on the store's connection; writers exclude each other."""

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement inside the current transaction; returns its rows, if any."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------------------

    def _init_meta(self) -> None:
        """Called by the backend inside the transaction that creates the tables."""
        defaults = {
            "schema": SCHEMA_VERSION,
            "lineage": str(uuid.uuid4()),
            "serial": "0",
            "audit_count": "0",
            "audit_hash": GENESIS_HASH,
        }
        for key, value in defaults.items():
            self._run(
                "INSERT INTO pushctl_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value),
            )
        schema = self._meta("schema")
        if schema != SCHEMA_VERSION:
            raise StateError(
                f"state at {self.location} has schema {schema}, "
                f"this pushctl reads schema {SCHEMA_VERSION}",
                hint="use the pushctl version that wrote this state",
            )

    def _meta(self, key: str, *, for_update: bool = False) -> str:
        clause = self.lock_rows_clause if for_update else ""
        rows = self._run(f"SELECT value FROM pushctl_meta WHERE key = ?{clause}", (key,))
        if not rows:
            raise StateError(
                f"state at {self.location} lacks its {key!r} record",
                hint="the state was damaged; restore it from a backup",
            )
        return str(rows[0][0])

    def snapshot(self) -> StateSnapshot:
        with self._transaction(write=False):
            return StateSnapshot(
                lineage=self._meta("lineage"),
                serial=int(self._meta("serial")),
                app_serials=self._app_serials(),
                bindings={b.address: b for b in self._bindings()},
                tombstones={b.address: b for b in self._tombstones()},
                open_intents=tuple(self._open_intents(None)),
                open_calls=tuple(self._open_calls(None)),
            )

    def bump_serial(self, apps: Sequence[str] = ()) -> int:
        with self._transaction(write=True):
            # The global serial's row lock (PostgreSQL) also queues up the app serial updates.
            serial = int(self._meta("serial", for_update=True)) + 1
            self._run("UPDATE pushctl_meta SET value = ? WHERE key = 'serial'", (str(serial),))
            for app in sorted(set(apps)):
                self._run(
                    "INSERT INTO pushctl_app_serials (app, serial) VALUES (?, 1) "
                    "ON CONFLICT (app) DO UPDATE SET serial = pushctl_app_serials.serial + 1",
                    (app,),
                )
            return serial

    def _app_serials(self) -> dict[str, int]:
        rows = self._run("SELECT app, serial FROM pushctl_app_serials ORDER BY app")
        return {str(app): int(serial) for app, serial in rows}

    # -- bindings -------------------------------------------------------------------------

    def put_binding(self, binding: TaskBinding) -> None:
        with self._transaction(write=True):
            self._put_binding(binding)

    def remove_binding(self, address: str) -> None:
        with self._transaction(write=True):
            self._run("DELETE FROM pushctl_bindings WHERE address = ?", (address,))

    def forget_binding(self, address: str) -> TaskBinding | None:
        """Remove the binding and keep it as a tombstone; returns what was forgotten."""
        with self._transaction(write=True):
            binding = self._binding(address)
            if binding is None:
                return None
            self._run("DELETE FROM pushctl_bindings WHERE address = ?", (address,))
            self._put_tombstone(binding)
            return binding

    def restore_binding(self, address: str, push_id: str) -> TaskBinding | None:
        """Bind the address again to the push its tombstone names; None when there is none."""
        with self._transaction(write=True):
            rows = self._run("SELECT doc FROM pushctl_tombstones WHERE address = ?", (address,))
            if not rows:
                return None
            binding = TaskBinding.model_validate_json(rows[0][0])
            if binding.push_id != push_id:
                return None
            self._put_binding(binding)
            return binding

    def purge_tombstone(self, address: str) -> TaskBinding | None:
        with self._transaction(write=True):
            rows = self._run("SELECT doc FROM pushctl_tombstones WHERE address = ?", (address,))
            self._run("DELETE FROM pushctl_tombstones WHERE address = ?", (address,))
        return TaskBinding.model_validate_json(rows[0][0]) if rows else None

    def _put_binding(self, binding: TaskBinding) -> None:
        self._run(
            "INSERT INTO pushctl_bindings (address, app, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (address) DO UPDATE SET app = excluded.app, doc = excluded.doc",
            (binding.address, binding.app, binding.model_dump_json()),
        )
        # A bound address needs no tombstone: the binding says everything it did.
        self._run("DELETE FROM pushctl_tombstones WHERE address = ?", (binding.address,))

    def _put_tombstone(self, binding: TaskBinding) -> None:
        self._run(
            "INSERT INTO pushctl_tombstones (address, app, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (address) DO UPDATE SET app = excluded.app, doc = excluded.doc",
            (binding.address, binding.app, binding.model_dump_json()),
        )

    def _tombstones(self) -> list[TaskBinding]:
        rows = self._run("SELECT doc FROM pushctl_tombstones ORDER BY address")
        return [TaskBinding.model_validate_json(doc) for (doc,) in rows]

    def get_binding(self, address: str) -> TaskBinding | None:
        with self._transaction(write=False):
            return self._binding(address)

    def list_bindings(self) -> list[TaskBinding]:
        with self._transaction(write=False):
            return self._bindings()

    def _binding(self, address: str) -> TaskBinding | None:
        rows = self._run("SELECT doc FROM pushctl_bindings WHERE address = ?", (address,))
        return TaskBinding.model_validate_json(rows[0][0]) if rows else None

    def _bindings(self) -> list[TaskBinding]:
        rows = self._run("SELECT doc FROM pushctl_bindings ORDER BY address")
        return [TaskBinding.model_validate_json(doc) for (doc,) in rows]

    # -- intents --------------------------------------------------------------------------

    def open_intent(self, intent: Intent) -> None:
        with self._write_ahead():
            self._journal_open(
                INTENTS,
                intent.intent_id,
                app=intent.app,
                address=intent.address,
                doc=intent.model_dump_json(),
            )

    def close_intent(self, intent_id: str, *, push_id: str | None, outcome: str) -> None:
        with self._transaction(write=True):
            self._journal_require_open(INTENTS, intent_id)
            self._run(
                "UPDATE pushctl_intents SET push_id = ?, outcome = ?, closed_at = ? "
                "WHERE intent_id = ?",
                (push_id, outcome, datetime.now(UTC).isoformat(), intent_id),
            )

    def hold_intent(self, intent_id: str, *, until: datetime) -> Intent:
        """Keep an open intent from being concluded "not created" before `until`."""
        # Flushed like the intent itself: a lost hold could let a push be sent again.
        with self._write_ahead():
            rows = self._run(
                "SELECT doc FROM pushctl_intents WHERE intent_id = ? AND outcome IS NULL",
                (intent_id,),
            )
            if not rows:
                raise StateError(
                    f"intent {intent_id} is not open in {self.location}",
                    hint="hold only intents listed by open_intents()",
                )
            held = Intent.model_validate_json(rows[0][0]).model_copy(update={"hold_until": until})
            self._run(
                "UPDATE pushctl_intents SET doc = ? WHERE intent_id = ?",
                (held.model_dump_json(), intent_id),
            )
            return held

    def open_intents(self, app: str | None = None) -> list[Intent]:
        with self._transaction(write=False):
            return self._open_intents(app)

    def _open_intents(self, app: str | None) -> list[Intent]:
        return sorted(
            (Intent.model_validate_json(doc) for doc in self._journal_open_docs(INTENTS, app)),
            key=lambda i: (i.created_at, i.intent_id),
        )

    # -- migration ------------------------------------------------------------------------

    def export_rows(self) -> dict[str, list[Row]]:
        """Every table but the locks, in one read transaction, for `state migrate`."""
        with self._transaction(write=False):
            return {
                table: self._run(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}")
                for table, columns in MIGRATED_TABLES.items()
            }

    def import_rows(self, rows: dict[str, list[Row]]) -> None:
        """Load an export into this store, which must hold nothing yet; one transaction."""
        with self._transaction(write=True):
            used = [
                t
                for t in MIGRATED_TABLES
                if t != "pushctl_meta" and self._run(f"SELECT 1 FROM {t} LIMIT 1")
            ]
            if used or self._meta("serial") != "0":
                raise StateError(
                    f"state at {self.location} is not empty ({', '.join(used) or 'serial moved'})",
                    hint="migrate into a new, empty database or file",
                )
            for table, columns in MIGRATED_TABLES.items():
                marks = ", ".join("?" for _ in columns)
                insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                if table == "pushctl_meta":
                    insert += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                for row in rows.get(table, []):
                    self._run(insert, tuple(row))

    # -- call log -------------------------------------------------------------------------

    def record_calls(self, app: str, path: str, times: Sequence[float]) -> None:
        if not times:
            return
        with self._transaction(write=True):
            for at in times:
                self._run(
                    "INSERT INTO pushctl_calls (app, path, at) VALUES (?, ?, ?)",
                    (app, path, float(at)),
                )
            self._run(
                "DELETE FROM pushctl_calls WHERE app = ? AND path = ? AND at < ?",
                (app, path, max(times) - CALL_LOG_RETENTION),
            )

    def move_call(self, app: str, path: str, *, sent_at: float, answered_at: float) -> None:
        with self._transaction(write=True):
            # One call moves: others logged at the same instant (another job's) stay there.
            [(same,)] = self._run(
                "SELECT count(*) FROM pushctl_calls WHERE app = ? AND path = ? AND at = ?",
                (app, path, float(sent_at)),
            )
            self._run(
                "DELETE FROM pushctl_calls WHERE app = ? AND path = ? AND at = ?",
                (app, path, float(sent_at)),
            )
            times = [float(sent_at)] * max(0, int(same) - 1) + [float(answered_at)]
            for at in times:
                self._run(
                    "INSERT INTO pushctl_calls (app, path, at) VALUES (?, ?, ?)", (app, path, at)
                )

    def calls_since(self, app: str, path: str, since: float) -> list[float]:
        with self._transaction(write=False):
            rows = self._run(
                "SELECT at FROM pushctl_calls WHERE app = ? AND path = ? AND at >= ? ORDER BY at",
                (app, path, float(since)),
            )
        return [float(at) for (at,) in rows]

    # -- audit ----------------------------------------------------------------------------

    def use_audit_key(self, key: bytes | None) -> None:
        """MAC every record appended from now on, and check MACs in `verify_audit`."""
        self._audit_key = key

    def append_audit(self, record: AuditEntry) -> StoredAuditRecord:
        with self._transaction(write=True):
            return self._append_audit(record)

    def _append_audit(self, record: AuditEntry) -> StoredAuditRecord:
        """Inside a write transaction: chain the record onto the log's head."""
        count = int(self._meta("audit_count", for_update=True))
        row = chain_row(
            record, seq=count + 1, prev_hash=self._meta("audit_hash"), key=self._audit_key
        )
        self._run(
            "INSERT INTO pushctl_audit (seq, prev_hash, hash, address, body, mac) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row.seq, row.prev_hash, row.hash, row.address, row.body, row.mac),
        )
        self._run("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_count'", (str(row.seq),))
        self._run("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (row.hash,))
        return stored_record(row)

    def audit_records(self, *, address: str | None = None) -> list[StoredAuditRecord]:
        with self._transaction(write=False):
            if address is None:
                rows = self._run(f"{AUDIT_SELECT} ORDER BY seq")
            else:
                rows = self._run(f"{AUDIT_SELECT} WHERE address = ? ORDER BY seq", (address,))
        return [self._parsed(row) for row in _audit_rows(rows)]

    def audit_head(self) -> AuditHead:
        """The newest record's seq and hash: the checkpoint apply prints."""
        with self._transaction(write=False):
            return AuditHead(seq=int(self._meta("audit_count")), hash=self._meta("audit_hash"))

    def verify_audit(self, *, expect_head: AuditHead | None = None) -> AuditVerification:
        with self._transaction(write=False):
            rows = self._run(f"{AUDIT_SELECT} ORDER BY seq")
            head = (int(self._meta("audit_count")), self._meta("audit_hash"))
        return verify_chain(
            list(_audit_rows(rows)), head=head, key=self._audit_key, expect_head=expect_head
        )

    def _parsed(self, row: AuditRow) -> StoredAuditRecord:
        try:
            return stored_record(row)
        except ValueError as exc:
            raise AuditError(
                f"audit record {row.seq} in {self.location} is unreadable: {exc}",
                hint="run `pushctl audit verify` to find where the log was altered",
            ) from exc


def _audit_rows(rows: list[Row]) -> Iterator[AuditRow]:
    for seq, prev_hash, hash_, address, body, mac in rows:
        yield AuditRow(
            seq=int(seq),
            prev_hash=str(prev_hash),
            hash=str(hash_),
            body=str(body),
            address=None if address is None else str(address),
            mac=None if mac is None else str(mac),
        )
