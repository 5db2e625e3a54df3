"""The state store (SQLite, PostgreSQL), per-app locks and the hash-chained audit log."""
