"""What the SQLite store flushes to the disk, and what survives a killed pushctl.

Write-ahead records (push intents, their holds, stop/recall/cancel calls) commit with
`synchronous = FULL`: on the disk before their request leaves. Every other commit is written
to the WAL without a flush of its own (`NORMAL`), which a killed process cannot lose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.records import Intent, TaskBinding
from reconciler.state import LockHolder
from reconciler.state.sqlite import SqliteStateStore

from .test_task_calls_store import call, open_call, outcome

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LEVELS = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStateStore]:
    opened = SqliteStateStore(tmp_path / "state.db")
    yield opened
    opened.close()


def commit_levels(store: SqliteStateStore, action: Callable[[], object]) -> list[str]:
    """The `synchronous` level in force at each COMMIT that `action` makes."""
    conn = store._conn
    level = LEVELS[str(conn.execute("PRAGMA synchronous").fetchone()[0])]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    levels: list[str] = []
    for sql in statements:
        text = sql.strip().upper().replace(" ", "")
        if text.startswith("PRAGMASYNCHRONOUS="):
            level = text.split("=", 1)[1]
        elif text == "COMMIT":
            levels.append(level)
    return levels


def intent(intent_id: str = "run-1:shop-android/new") -> Intent:
    return Intent(
        intent_id=intent_id,
        run_id="run-1",
        address="shop-android/new",
        app="shop-android",
        action="create",
        body_digest="0" * 64,
        body={"audience_type": "all"},
        created_at=WHEN,
    )


def binding(address: str = "shop-android/bf-teaser") -> TaskBinding:
    return TaskBinding(
        address=address, app="shop-android", push_id="3895624686", created_by_pushctl=False
    )


def test_write_ahead_records_are_flushed_as_they_commit(store: SqliteStateStore) -> None:
    assert commit_levels(store, lambda: store.open_intent(intent())) == ["FULL"]
    until = WHEN + timedelta(minutes=5)
    assert commit_levels(store, lambda: store.hold_intent(intent().intent_id, until=until)) == [
        "FULL"
    ]
    assert commit_levels(store, lambda: open_call(store, call("run-1:stop"))) == ["FULL"]


def test_other_commits_wait_for_the_next_flush(store: SqliteStateStore) -> None:
    # Each was flushed by itself before: five flushes a stop instead of one.
    task_call = call("run-1:stop")
    open_call(store, task_call)
    store.open_intent(intent())
    holder = LockHolder.new(user="ci", host="runner", run_id="run-1", commit=None, now=WHEN)
    with store.acquire(["shop-android"], holder, timeout=1.0) as lease:
        actions: list[Callable[[], object]] = [
            lease.check,  # renews the lease before every call
            lambda: store.put_binding(binding()),
            lambda: store.append_audit(outcome(task_call, "intent")),
            lambda: store.close_call(task_call.call_id, outcome="done", record=outcome(task_call)),
            lambda: store.close_intent(intent().intent_id, push_id="1", outcome="created"),
            lambda: store.bump_serial(["shop-android"]),
        ]
        for action in actions:
            assert commit_levels(store, action) == ["NORMAL"]


def test_a_failed_write_ahead_record_leaves_the_connection_unflushed(
    store: SqliteStateStore,
) -> None:
    open_call(store, call("run-1:stop"))
    with pytest.raises(Exception, match="already recorded"):
        open_call(store, call("run-1:stop"))
    assert commit_levels(store, lambda: store.put_binding(binding())) == ["NORMAL"]


KILLED_WRITER = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from reconciler.records import TaskBinding, TaskCall
from reconciler.state import AuditEntry, What, Where, Who, Why
from reconciler.state.sqlite import SqliteStateStore

store = SqliteStateStore(Path(sys.argv[1]))
when = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
intent = AuditEntry(kind="intent", run_id="run-1", who=Who(user="ci"), where=Where(host="h"),
    why=Why(), what=What(action="stop", address="shop-android/a", push_id="1"), when=when)
store.open_call(TaskCall(call_id="run-1:stop", run_id="run-1", address="shop-android/a",
    app="shop-android", action="stop", path="/v3/push/stop_push_msg", push_id="1",
    created_at=when), record=intent)
for n in range(20):
    store.put_binding(TaskBinding(address=f"shop-android/t{n}", app="shop-android",
        push_id=str(n), created_by_pushctl=False))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_loses_no_commit(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    reopened = SqliteStateStore(db)
    try:
        assert [c.call_id for c in reopened.open_calls()] == ["run-1:stop"]
        assert len(reopened.list_bindings()) == 20
    finally:
        reopened.close()
