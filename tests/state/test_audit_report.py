"""`pushctl audit report`: the timeline an auditor reads, its filters, formats and chain status."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.state import AuditEntry, What, Where, Who, Why, open_store
from reconciler.state import Result as TpnsResult


def invoke(state: Path, *args: str) -> Result:
    env = {"PUSHCTL_AUDIT_KEY": ""}
    return CliRunner().invoke(
        cli, ["audit", "--state", f"sqlite:{state}", "report", *args], env=env
    )


def write_run(state: Path) -> None:
    """A create sent from CI for a pull request on the 22nd, and a stop by hand on the 23rd."""
    ci = {
        "run_id": "r1",
        "who": Who(user="runner", ci_actor="alice"),
        "where": Where(host="ci", ci_run_url="https://ci.example.com/runs/7"),
        "why": Why(commit="0123456789abcdef0123", pr="42"),
    }
    push = {"path": "/v3/push/app", "body": {"audience_type": "all"}}
    entries = [
        AuditEntry(
            kind="intent",
            what=What(action="create", address="shop/sale", request=push),
            when=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
            **ci,  # type: ignore[arg-type]
        ),
        AuditEntry(
            kind="outcome",
            what=What(
                action="create",
                address="shop/sale",
                request={"path": "/v3/push/app", "new_push_id": "3895624686"},
            ),
            result=TpnsResult(ret_code=0),
            when=datetime(2026, 11, 22, 9, 0, 1, tzinfo=UTC),
            **ci,  # type: ignore[arg-type]
        ),
        AuditEntry(
            kind="outcome",
            run_id="r2",
            who=Who(user='=HYPERLINK("x")'),
            where=Where(host="laptop"),
            why=Why(),
            what=What(
                action="stop",
                address="shop/other",
                push_id="3895624650",
                request={"path": "/v3/push/stop_push_msg"},
            ),
            result=TpnsResult(ret_code=1008006, err_msg="task not running"),
            when=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        ),
    ]
    with open_store(f"sqlite:{state}", base_dir=state.parent) as store:
        for entry in entries:
            store.append_audit(entry)


def test_markdown_lists_who_from_where_what_and_the_answer(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_run(state)
    result = invoke(state)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("# pushctl audit report\n\n**Chain intact: 3 records link up;")
    assert (
        "| 2 | 2026-11-22T09:00:01Z | outcome | create | shop/sale | 3895624686 "
        "| runner (CI: alice) | commit 0123456789ab, PR 42, https://ci.example.com/runs/7 "
        "| /v3/push/app | ret_code 0 |"
    ) in out
    assert "ret_code 1008006: task not running" in out


def test_since_and_address_filter_the_rows_not_the_chain_check(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_run(state)
    out = invoke(state, "--since", "2026-11-23", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert [row[0] for row in rows] == ["seq", "3"]
    out = invoke(state, "--address", "shop/sale", "--format", "csv").stdout
    assert [row[0] for row in csv.reader(io.StringIO(out))] == ["seq", "1", "2"]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_run(state)
    result = invoke(state, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[3][6] == '\'=HYPERLINK("x")'
    assert "Chain intact" in result.stderr


def test_a_broken_chain_is_reported_and_exits_1(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_run(state)
    with sqlite3.connect(state) as db:
        db.execute(
            "UPDATE pushctl_audit SET body = replace(body, 'alice', 'mallory') WHERE seq = 1"
        )
    result = invoke(state, "--format", "html")
    assert result.exit_code == 1
    assert '<p id="chain" class="broken"><strong>Chain BROKEN at record 1: changed' in result.stdout
    assert "<script" not in result.stdout


def test_a_bad_since_is_a_usage_error(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_run(state)
    assert invoke(state, "--since", "last tuesday").exit_code != 0
