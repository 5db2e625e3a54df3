"""The journal of stops, recalls and cancels, on both backends: open, close with an outcome
record in the same transaction, states written before the journal existed, and migration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.records import TaskCall
from reconciler.state import AuditEntry, StateStore, What, Where, Who, Why, open_store
from reconciler.state import Result as AuditResult
from reconciler.state.audit import AuditKind

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
STOP = "/v3/push/stop_push_msg"


def call(call_id: str, *, address: str = "shop-android/bf-teaser", minute: int = 0) -> TaskCall:
    return TaskCall(
        call_id=call_id,
        run_id="run-1",
        address=address,
        app=address.split("/", maxsplit=1)[0],
        action="stop",
        path=STOP,
        push_id="3895624686",
        created_at=WHEN.replace(minute=minute),
    )


def intent(task_call: TaskCall) -> AuditEntry:
    return _audit_record(task_call, "intent", None)


def outcome(task_call: TaskCall, message: str = "") -> AuditEntry:
    return _audit_record(task_call, "outcome", AuditResult(ret_code=0, err_msg=message))


def _audit_record(task_call: TaskCall, kind: AuditKind, result: AuditResult | None) -> AuditEntry:
    return AuditEntry(
        kind=kind,
        run_id=task_call.run_id,
        who=Who(user="ci"),
        where=Where(host="runner"),
        why=Why(),
        what=What(
            action=task_call.action,
            address=task_call.address,
            push_id=task_call.push_id,
            request={"path": task_call.path, "call_id": task_call.call_id},
        ),
        when=WHEN,
        result=result,
    )


def open_call(store: StateStore, task_call: TaskCall) -> None:
    store.open_call(task_call, record=intent(task_call))


def test_open_calls_survive_reopening_and_filter_by_app(open_state: Any) -> None:
    store = open_state()
    open_call(store, call("run-1:b", minute=5))
    open_call(store, call("run-1:a", minute=7))
    open_call(store, call("run-1:c", address="shop-ios/x", minute=1))

    reopened = open_state()
    assert [c.call_id for c in reopened.open_calls()] == ["run-1:c", "run-1:b", "run-1:a"]
    assert [c.call_id for c in reopened.open_calls("shop-ios")] == ["run-1:c"]
    assert reopened.snapshot().open_calls == tuple(reopened.open_calls())


def test_closing_a_call_appends_its_outcome_record_and_keeps_the_call(open_state: Any) -> None:
    store = open_state()
    open_call(store, call("run-1:a"))
    open_call(store, call("run-1:b"))

    store.close_call("run-1:a", outcome="done", record=outcome(call("run-1:a"), "stopped"))

    reopened = open_state()
    assert [c.call_id for c in reopened.open_calls()] == ["run-1:b"]
    assert reopened.task_calls() == [(call("run-1:a"), "done"), (call("run-1:b"), None)]
    records = reopened.audit_records()
    assert [r.entry.kind for r in records] == ["intent", "intent", "outcome"]
    record = records[-1]
    assert record.entry.what.request == {"path": STOP, "call_id": "run-1:a"}
    assert record.entry.result == AuditResult(ret_code=0, err_msg="stopped")
    assert reopened.verify_audit().ok


def test_a_call_closes_once_and_is_opened_once(store: StateStore) -> None:
    open_call(store, call("run-1:a"))
    with pytest.raises(StateError, match="each stop, recall or cancel needs its own call id"):
        open_call(store, call("run-1:a"))
    store.close_call("run-1:a", outcome="done", record=outcome(call("run-1:a")))

    with pytest.raises(StateError, match=r"call run-1:a is already closed \(done\)"):
        store.close_call("run-1:a", outcome="not done", record=outcome(call("run-1:a")))
    with pytest.raises(StateError, match="call nope is unknown"):
        store.close_call("nope", outcome="done", record=outcome(call("nope")))
    # A refused open or close writes no audit record either: each goes with its record.
    assert [r.entry.kind for r in store.audit_records()] == ["intent", "outcome"]


def test_a_call_is_recorded_only_with_its_audit_intent(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_append(record: AuditEntry) -> None:
        raise StateError("the audit log is full")

    monkeypatch.setattr(store, "_append_audit", failing_append)
    with pytest.raises(StateError, match="the audit log is full"):
        open_call(store, call("run-1:a"))
    monkeypatch.undo()
    assert store.open_calls() == []
    assert store.audit_records() == []


def test_state_written_before_the_journal_opens_with_no_calls(open_state: Any) -> None:
    open_state().bump_serial()
    open_state.raw("DROP TABLE pushctl_task_calls")  # as an older pushctl left it

    store = open_state()
    assert (store.snapshot().serial, store.open_calls()) == (1, [])
    open_call(store, call("run-2:a"))
    assert [c.call_id for c in open_state().open_calls()] == ["run-2:a"]


def test_migration_copies_open_and_closed_calls(store: StateStore, tmp_path: Path) -> None:
    open_call(store, call("run-1:a"))
    open_call(store, call("run-1:b", minute=3))
    store.close_call("run-1:a", outcome="not done", record=outcome(call("run-1:a")))

    with open_store(f"sqlite:{tmp_path / 'copy.db'}", base_dir=tmp_path) as copy:
        copy.import_rows(store.export_rows())
        assert copy.task_calls() == store.task_calls()
        assert copy.snapshot().open_calls == (call("run-1:b", minute=3),)
        assert copy.verify_audit().ok
