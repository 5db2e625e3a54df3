"""`pushctl audit log --format json` and `pushctl audit verify` with a key and a checkpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.errors import ConfigError
from reconciler.records import TaskBinding
from reconciler.state import AuditEntry, What, Where, Who, Why, open_store

KEY = "audit-key-0123456789abcdef"


def invoke(state: Path, *args: str, key: str | None = None) -> Result:
    env = {"PUSHCTL_AUDIT_KEY": key or ""}
    return CliRunner().invoke(cli, ["audit", "--state", f"sqlite:{state}", *args], env=env)


def write_log(state: Path, count: int, *, key: str | None) -> str:
    with open_store(f"sqlite:{state}", base_dir=state.parent) as store:
        store.use_audit_key(key.encode() if key else None)
        for n in range(count):
            store.append_audit(
                AuditEntry(
                    kind="state",
                    run_id="r",
                    who=Who(user="alice"),
                    where=Where(host="h"),
                    why=Why(),
                    what=What(action="rm", address=f"app/t{n}"),
                    when=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
                )
            )
        return str(store.audit_head())


def test_log_format_json_matches_the_json_flag(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_log(state, 2, key=KEY)

    as_format = invoke(state, "log", "--format", "json").output.splitlines()
    as_flag = invoke(state, "log", "--json").output.splitlines()

    assert as_format == as_flag
    records = [json.loads(line) for line in as_format]
    assert [(r["seq"], r["version"], r["what"]["address"]) for r in records] == [
        (1, 2, "app/t0"),
        (2, 2, "app/t1"),
    ]
    assert all(len(r["mac"]) == 64 for r in records)


def test_verify_with_the_key_and_a_checkpoint_says_what_it_proved(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    head = write_log(state, 3, key=KEY)

    result = invoke(state, "verify", "--expect-head", f"audit_head={head}", key=KEY)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Audit log verified: 3 records, chain intact.",
        "MACs checked with PUSHCTL_AUDIT_KEY: 3 records keyed.",
        f"Checkpoint {head} found: nothing up to it was cut off or rewritten.",
    ]


def test_verify_without_the_key_says_what_it_cannot_prove(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_log(state, 2, key=KEY)

    lines = invoke(state, "verify").output.splitlines()

    assert lines[1].startswith("Internal consistency only: without PUSHCTL_AUDIT_KEY")
    assert lines[2] == "2 records carry a MAC that was not checked."
    assert lines[3].startswith("Tail not checked: pass --expect-head SEQ:HASH")


def test_a_malformed_checkpoint_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(tmp_path / "state.db", "verify", "--expect-head", "12")

    assert result.exit_code != 0
    assert "--expect-head: '12' is not an audit head" in str(result.exception)


def test_a_short_audit_key_is_refused(tmp_path: Path) -> None:
    result = invoke(tmp_path / "state.db", "verify", key="short")

    assert isinstance(result.exception, ConfigError)
    assert "PUSHCTL_AUDIT_KEY is set but shorter than 16 characters" in str(result.exception)


def test_state_rm_writes_a_keyed_record_when_the_key_is_set(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    write_log(state, 1, key=KEY)
    with open_store(f"sqlite:{state}", base_dir=tmp_path) as store:
        store.put_binding(
            TaskBinding(address="app/t9", app="app", push_id="9", created_by_pushctl=False)
        )

    removed = CliRunner().invoke(
        cli,
        ["state", "--state", f"sqlite:{state}", "rm", "app/t9", "--yes"],
        env={"PUSHCTL_AUDIT_KEY": KEY},
    )
    verified = invoke(state, "verify", key=KEY)

    assert removed.exit_code == 0, removed.output
    assert verified.exit_code == 0, verified.output
    assert "MACs checked with PUSHCTL_AUDIT_KEY: 2 records keyed." in verified.output
