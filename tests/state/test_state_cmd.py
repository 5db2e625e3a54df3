"""`pushctl state`, `pushctl force-unlock` and `pushctl audit`, run through the real CLI group."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.errors import AuditError, LockNotAcquired, StateError
from reconciler.records import LiveStatus, TaskBinding
from reconciler.state import AuditEntry, LockHolder, StateStore, What, Where, Who, Why, open_store
from reconciler.state import Result as AuditResult

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def seeded(state_path: Path) -> StateStore:
    store = open_store(f"sqlite:{state_path}", base_dir=state_path.parent)
    store.put_binding(
        TaskBinding(
            address="shop-android/bf-teaser",
            app="shop-android",
            push_id="3895624686",
            created_by_pushctl=True,
            last_status=LiveStatus.WAIT,
            body={"title": "Sale"},
        )
    )
    store.put_binding(
        TaskBinding(
            address="shop-ios/old-promo",
            app="shop-ios",
            push_id="77",
            created_by_pushctl=False,
        )
    )
    return store


def run(state_path: Path, *args: str, stdin: str | None = None) -> Result:
    group, *rest = args
    return CliRunner().invoke(cli, [group, "--state", f"sqlite:{state_path}", *rest], input=stdin)


def audit_entry(address: str, kind: str, ret_code: int | None = None) -> AuditEntry:
    return AuditEntry(
        kind=kind,
        run_id="run-1",
        who=Who(user="alice", ci_actor="octocat"),
        where=Where(host="runner"),
        why=Why(commit="abc"),
        what=What(action="create", address=address, push_id="3895624686"),
        when=WHEN,
        result=None if ret_code is None else AuditResult(ret_code=ret_code, err_msg="quota"),
    )


def test_state_list_shows_a_table_of_bindings(seeded: StateStore, state_path: Path) -> None:
    lineage = seeded.snapshot().lineage

    result = run(state_path, "state", "list")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"State {lineage}, serial 0:",
        "ADDRESS                 PUSH ID     STATUS     ORIGIN",
        "shop-android/bf-teaser  3895624686  PUSH_WAIT  created",
        "shop-ios/old-promo      77          -          adopted",
    ]


def test_state_list_of_an_empty_state_says_so(state_path: Path) -> None:
    result = run(state_path, "state", "list")

    assert result.exit_code == 0
    assert result.output.endswith(", serial 0: no tasks.\n")


def test_state_show_prints_every_field(seeded: StateStore, state_path: Path) -> None:
    result = run(state_path, "state", "show", "shop-android/bf-teaser")

    assert result.exit_code == 0
    assert "push_id: 3895624686\n" in result.output
    assert "last_status: PUSH_WAIT\n" in result.output
    assert "date: -\n" in result.output
    assert 'body: {\n  "title": "Sale"\n}\n' in result.output


def test_state_show_of_an_unknown_address_says_where_to_look(state_path: Path) -> None:
    result = run(state_path, "state", "show", "nope/x")

    assert isinstance(result.exception, StateError)
    assert str(result.exception) == (
        "no task nope/x in state\n  `pushctl state list` shows the addresses in state"
    )


def test_state_rm_asks_and_stops_on_no(seeded: StateStore, state_path: Path) -> None:
    result = run(state_path, "state", "rm", "shop-ios/old-promo", stdin="n\n")

    assert result.exit_code == 1
    assert "Forget shop-ios/old-promo (push id 77)? The live task is not changed." in result.output
    assert seeded.get_binding("shop-ios/old-promo") is not None
    assert seeded.audit_records() == []


def test_state_rm_removes_and_writes_an_audit_record(seeded: StateStore, state_path: Path) -> None:
    result = run(state_path, "state", "rm", "shop-ios/old-promo", stdin="y\n")

    assert result.exit_code == 0, result.output
    assert "Removed shop-ios/old-promo (push id 77) from state.\n" in result.output
    assert "while a manifest declares shop-ios/old-promo, it adopts push 77 again" in result.output
    assert seeded.get_binding("shop-ios/old-promo") is None
    # A tombstone keeps what recognises the push, so a restored manifest adopts it again.
    tombstone = seeded.snapshot().tombstones["shop-ios/old-promo"]
    assert tombstone.push_id == "77"
    [record] = seeded.audit_records()
    assert (record.entry.kind, record.entry.what.action) == ("state", "rm")
    assert (record.entry.what.address, record.entry.what.push_id) == ("shop-ios/old-promo", "77")
    assert seeded.list_locks() == []


def test_state_rm_with_yes_does_not_ask(seeded: StateStore, state_path: Path) -> None:
    result = run(state_path, "state", "rm", "--yes", "shop-ios/old-promo")

    assert result.exit_code == 0
    assert "Forget" not in result.output


def test_state_rm_refuses_while_a_run_holds_the_app(seeded: StateStore, state_path: Path) -> None:
    seeded.acquire(["shop-ios"], holder(), timeout=0)

    result = run(state_path, "state", "rm", "--yes", "shop-ios/old-promo")

    assert isinstance(result.exception, LockNotAcquired)
    assert "force-unlock lock-1" in str(result.exception)
    assert seeded.get_binding("shop-ios/old-promo") is not None


def holder() -> LockHolder:
    return LockHolder(
        lock_id="lock-1",
        user="bob",
        host="ci-9",
        run_id="run-9",
        commit="feedbeef",
        pid=99,
        acquired_at=WHEN,
    )


def test_state_locks_lists_holders(seeded: StateStore, state_path: Path) -> None:
    assert run(state_path, "state", "locks").output == "No locks held.\n"
    seeded.acquire(["shop-ios"], holder(), timeout=0)

    result = run(state_path, "state", "locks")

    assert result.output == (
        "shop-ios: bob@ci-9 (run run-9, feedbeef, pid 99) "
        "since 2026-11-22T09:00:00Z, lock id lock-1\n"
    )


def test_force_unlock_asks_then_releases_and_audits(seeded: StateStore, state_path: Path) -> None:
    seeded.acquire(["shop-ios", "shop-android"], holder(), timeout=0)

    result = run(state_path, "force-unlock", "lock-1", stdin="y\n")

    assert result.exit_code == 0, result.output
    assert "Release lock lock-1 on shop-android, shop-ios? Do this only if" in result.output
    assert result.output.endswith(
        "Released lock lock-1, held by bob@ci-9 (run run-9, "
        "feedbeef, pid 99) since 2026-11-22T09:00:00Z, lock id lock-1.\n"
    )
    assert seeded.list_locks() == []
    [record] = seeded.audit_records()
    assert record.entry.what.action == "force-unlock"
    assert record.entry.what.request == {"apps": ["shop-android", "shop-ios"], "lock_id": "lock-1"}


def test_force_unlock_answered_no_keeps_the_lock(seeded: StateStore, state_path: Path) -> None:
    seeded.acquire(["shop-ios"], holder(), timeout=0)

    result = run(state_path, "force-unlock", "lock-1", stdin="n\n")

    assert result.exit_code == 1
    assert [lock.app for lock in seeded.list_locks()] == ["shop-ios"]


def test_force_unlock_of_an_unknown_id_fails(state_path: Path) -> None:
    result = run(state_path, "force-unlock", "--yes", "nope")

    assert isinstance(result.exception, StateError)
    assert "no lock with id nope" in str(result.exception)


def test_audit_log_prints_one_line_per_record(seeded: StateStore, state_path: Path) -> None:
    seeded.append_audit(audit_entry("shop-android/bf-teaser", "intent"))
    seeded.append_audit(audit_entry("shop-android/bf-teaser", "outcome", ret_code=1008028))
    seeded.append_audit(audit_entry("shop-ios/x", "intent"))

    result = run(state_path, "audit", "log", "--address", "shop-android/bf-teaser")

    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "#1  2026-11-22T09:00:00Z  intent  create  shop-android/bf-teaser  push 3895624686  "
        "by alice (ci: octocat)",
        "#2  2026-11-22T09:00:00Z  outcome  create  shop-android/bf-teaser  push 3895624686  "
        "by alice (ci: octocat)  ret_code 1008028: quota",
    ]


def test_audit_log_json_is_one_object_per_line(seeded: StateStore, state_path: Path) -> None:
    first = seeded.append_audit(audit_entry("shop-ios/x", "intent"))

    result = run(state_path, "audit", "log", "--json")

    [line] = result.output.splitlines()
    record = json.loads(line)
    assert (record["seq"], record["hash"], record["prev_hash"]) == (1, first.hash, first.prev_hash)
    assert record["what"]["address"] == "shop-ios/x"
    assert record["when"] == "2026-11-22T09:00:00Z"


def test_audit_verify_prints_the_count(seeded: StateStore, state_path: Path) -> None:
    seeded.append_audit(audit_entry("shop-ios/x", "intent"))
    seeded.append_audit(audit_entry("shop-ios/x", "intent"))

    result = run(state_path, "audit", "verify")

    assert result.exit_code == 0
    first, *notes = result.output.splitlines()
    assert first == "Audit log verified: 2 records, chain intact."
    assert notes[0].startswith("Internal consistency only: without PUSHCTL_AUDIT_KEY")


def test_audit_verify_names_the_first_bad_record(seeded: StateStore, state_path: Path) -> None:
    for _ in range(3):
        seeded.append_audit(audit_entry("shop-ios/x", "intent"))
    seeded.close()
    with closing(sqlite3.connect(state_path)) as conn, conn:
        conn.execute("DELETE FROM pushctl_audit WHERE seq = 2")

    result = run(state_path, "audit", "verify")

    assert isinstance(result.exception, AuditError)
    assert result.exit_code == 1
    assert str(result.exception).startswith(
        f"audit log in {state_path} is broken at record 2: removed (record 2 is missing (next: 3))"
    )


def test_without_state_option_the_store_comes_from_pushctl_yaml(tmp_path: Path) -> None:
    config = tmp_path / "pushctl.yaml"
    config.write_text(
        "apps:\n"
        "  shop-android:\n"
        '    accessId: "1500001048"\n'
        "    platform: android\n"
        "    endpoint: emulator\n"
        "    secretKeyEnv: SHOP_ANDROID_SECRET_KEY\n"
        "state: sqlite:ci/state.db\n"
    )

    result = CliRunner().invoke(cli, ["--config", str(config), "audit", "verify"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Audit log verified: 0 records, chain intact."
    assert (tmp_path / "ci" / "state.db").is_file()


def test_state_rm_purge_drops_the_tombstone_and_says_what_follows(
    seeded: StateStore, state_path: Path
) -> None:
    result = run(state_path, "state", "rm", "--yes", "--purge", "shop-ios/old-promo")

    assert result.exit_code == 0, result.output
    assert "the push would be sent again" in result.output
    assert seeded.snapshot().tombstones == {}
    [record] = seeded.audit_records()
    assert record.entry.what.action == "rm --purge"
