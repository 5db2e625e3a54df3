"""Fixtures for the state tests: every contract test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from pgserver (binaries shipped in the wheel), started once per session in a
temporary folder. PostgreSQL refuses to run as root; pgserver handles that itself by creating
an unprivileged system user `pgserver` (useradd) and running initdb/pg_ctl as that user, after
opening the folders on the data path for it. As a normal user it runs the server directly. If
the server cannot start, the session fails: these tests are never skipped.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reconciler.state import StateStore, open_store

TEST_DATABASE = "pushctl_state_tests"
PUSHCTL_TABLES = (
    "pushctl_meta",
    "pushctl_app_serials",
    "pushctl_bindings",
    "pushctl_tombstones",
    "pushctl_intents",
    "pushctl_task_calls",
    "pushctl_locks",
    "pushctl_audit",
    "pushctl_calls",
)


@dataclass
class PostgresServer:
    """A running throwaway server and the URL of a database on it."""

    handle: Any
    admin_url: str

    def database_url(self, name: str) -> str:
        return str(self.handle.get_uri(database=name))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    root = Path(tempfile.mkdtemp(prefix="pushctl-pg-"))
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers) and falls
        # back to /tmp/runtime-<uid>, which suits a throwaway server.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from pgserver.postgres_server import get_server

        try:
            handle = get_server(root / "pgdata", cleanup_mode="delete")
        except Exception as exc:
            log = root / "pgdata" / "log"
            detail = log.read_text() if log.exists() else "(no server log)"
            raise RuntimeError(
                f"PostgreSQL for the state tests did not start in {root}: {exc}\n{detail}"
            ) from exc
    try:
        admin_url = str(handle.get_uri())
        with psycopg.connect(admin_url, autocommit=True) as admin:
            # A throwaway server: no need to wait for the disk on every commit.
            admin.execute("ALTER SYSTEM SET fsync = off")
            admin.execute("SELECT pg_reload_conf()")
            admin.execute(f"CREATE DATABASE {TEST_DATABASE}")
        yield PostgresServer(handle=handle, admin_url=admin_url)
    finally:
        handle.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The test database, emptied: no pushctl tables, no other sessions, no advisory locks.

    Emptying one database is ten times faster than creating one per test.
    """
    url = postgres_server.database_url(TEST_DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.execute(f"DROP TABLE IF EXISTS {', '.join(PUSHCTL_TABLES)}")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_state(state_url: str, tmp_path: Path) -> Iterator[OpenState]:
    opener = OpenState(url=state_url, base_dir=tmp_path)
    yield opener
    opener.close_all()


@pytest.fixture
def store(open_state: OpenState) -> StateStore:
    return open_state()


@dataclass
class OpenState:
    """Opens stores on the test's state URL (several at once, as several runs would)."""

    url: str
    base_dir: Path
    opened: list[StateStore] = field(default_factory=list)

    def __call__(self) -> StateStore:
        store = open_store(self.url, base_dir=self.base_dir)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()

    def raw(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on the backing database behind the store's back (tampering, crashes)."""
        if self.url.startswith("sqlite:"):
            with closing(sqlite3.connect(self.url.removeprefix("sqlite:"))) as conn, conn:
                return conn.execute(sql, params).fetchall()
        with psycopg.connect(self.url, autocommit=True) as pg:
            cursor = pg.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()
