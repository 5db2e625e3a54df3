"""The state store (SQLite, PostgreSQL), per-app locks and the hash-chained audit log."""

from __future__ import annotations

from reconciler.state.audit import (
    AuditEntry,
    Provenance,
    Result,
    StoredAuditRecord,
    What,
    Where,
    Who,
    Why,
    provenance_from_env,
    redact,
)
from reconciler.state.audit_verify import AuditHead, AuditVerification
from reconciler.state.lock import AppLock, LockHolder, LockLease
from reconciler.state.store import StateStore, open_store

__all__ = [
    "AppLock",
    "AuditEntry",
    "AuditHead",
    "AuditVerification",
    "LockHolder",
    "LockLease",
    "Provenance",
    "Result",
    "StateStore",
    "StoredAuditRecord",
    "What",
    "Where",
    "Who",
    "Why",
    "open_store",
    "provenance_from_env",
    "redact",
]
