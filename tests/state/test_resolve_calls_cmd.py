"""`pushctl state resolve ADDRESS --done | --not-done`: a person settles an interrupted stop,
recall or cancel whose task TPNS no longer shows, and the audit log says who did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.errors import StateError
from reconciler.records import TaskCall
from reconciler.state import StateStore, open_store

from .test_task_calls_store import open_call

ADDRESS = "shop-android/bf-teaser"
STOP = "/v3/push/stop_push_msg"


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def left_open(state_path: Path) -> StateStore:
    store = open_store(f"sqlite:{state_path}", base_dir=state_path.parent)
    task_call = TaskCall(
        call_id="run-1:bf-teaser:stop",
        run_id="run-1",
        address=ADDRESS,
        app="shop-android",
        action="stop",
        path=STOP,
        push_id="3895624686",
        created_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
    )
    open_call(store, task_call)
    return store


def run(state_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["state", "--state", f"sqlite:{state_path}", *args])


def test_state_list_counts_the_open_calls(left_open: StateStore, state_path: Path) -> None:
    result = run(state_path, "list")

    assert result.exit_code == 0, result.output
    assert (
        "1 open stop, recall or cancel call(s): an earlier apply was interrupted" in result.output
    )


@pytest.mark.parametrize(("flag", "verdict"), [("--done", "done"), ("--not-done", "not done")])
def test_resolve_closes_the_call_with_an_outcome_record(
    left_open: StateStore, state_path: Path, flag: str, verdict: str
) -> None:
    result = run(state_path, "resolve", ADDRESS, flag)

    assert result.exit_code == 0, result.output
    assert result.output == f"Resolved 1 open call(s) of {ADDRESS}: {verdict} (by hand).\n"
    assert left_open.open_calls() == []
    [(_, outcome)] = left_open.task_calls()
    assert outcome == f"{verdict} (by hand)"
    [opened, record] = left_open.audit_records(address=ADDRESS)
    assert (opened.entry.kind, record.entry.kind) == ("intent", "outcome")
    assert record.entry.what.request == {
        "path": STOP,
        "call_id": "run-1:bf-teaser:stop",
        "resolved_by": "hand",
    }
    assert record.entry.result is not None
    assert record.entry.result.err_msg == f"resolved open call: {verdict} (by hand)"
    assert left_open.verify_audit().ok


def test_resolve_without_an_open_call_says_where_to_look(state_path: Path) -> None:
    result = run(state_path, "resolve", ADDRESS, "--done")

    assert isinstance(result.exception, StateError)
    assert str(result.exception) == (
        f"no open stop, recall or cancel for {ADDRESS}\n"
        "  `pushctl plan` warns call.open for each one left open"
    )


def test_resolve_takes_exactly_one_answer(left_open: StateStore, state_path: Path) -> None:
    result = run(state_path, "resolve", ADDRESS, "--done", "--not-done")

    assert result.exit_code == 2
    assert "give exactly one of --push-id ID, --not-sent, --done, --not-done" in result.output
    assert len(left_open.open_calls()) == 1
