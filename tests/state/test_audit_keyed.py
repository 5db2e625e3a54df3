"""The keyed audit log on both backends: MACs, the address column, old records, checkpoints."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.state import AuditEntry, AuditHead, StateStore, What, Where, Who, Why, open_store
from reconciler.state.audit import GENESIS_HASH, canonical_json, record_hash

KEY = b"0123456789abcdef-audit-key"
OTHER_KEY = b"fedcba9876543210-other-key"
WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def entry(address: str = "shop-android/bf-teaser", user: str = "alice") -> AuditEntry:
    return AuditEntry(
        kind="state",
        run_id="run-1",
        who=Who(user=user),
        where=Where(host="runner"),
        why=Why(commit="abc123"),
        what=What(action="rm", address=address, push_id="100"),
        when=WHEN,
    )


def fill(store: StateStore, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        store.append_audit(entry(f"shop-android/task-{n}"))


def rehash_from(open_state: Any, seq: int) -> None:
    """What anyone with write access can do: recompute every hash from `seq` on, and the head."""
    rows = open_state.raw("SELECT seq, prev_hash, body FROM pushctl_audit ORDER BY seq")
    prev = GENESIS_HASH
    for row_seq, prev_hash, body in rows:
        if row_seq >= seq:
            new_hash = record_hash(prev, body)
            open_state.raw(
                "UPDATE pushctl_audit SET prev_hash = ?, hash = ? WHERE seq = ?",
                (prev, new_hash, row_seq),
            )
            prev = new_hash
        else:
            prev = record_hash(prev_hash, body)
    open_state.raw("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (prev,))


def test_keyed_records_carry_a_mac_and_verify_with_the_key(store: StateStore) -> None:
    store.use_audit_key(KEY)
    fill(store, 3)

    verdict = store.verify_audit()

    assert all(r.mac is not None and r.version == 2 for r in store.audit_records())
    assert (verdict.ok, verdict.keyed, verdict.mac_count, verdict.unkeyed_prefix) == (
        True,
        True,
        3,
        0,
    )


def test_without_the_key_a_rewritten_and_rehashed_chain_passes_and_says_so(
    store: StateStore, open_state: Any
) -> None:
    store.use_audit_key(KEY)
    fill(store, 4)
    open_state.raw(
        "UPDATE pushctl_audit SET body = replace(body, 'alice', 'mallory') WHERE seq = 2"
    )
    rehash_from(open_state, 2)

    store.use_audit_key(None)
    keyless = store.verify_audit()
    store.use_audit_key(KEY)
    keyed = store.verify_audit()

    assert (keyless.ok, keyless.keyed, keyless.mac_count) == (True, False, 4)
    assert (keyed.ok, keyed.first_bad_seq, keyed.problem) == (False, 2, "forged")
    assert keyed.detail == "record 2's MAC does not match: it was rewritten without the key"


def test_the_wrong_key_fails_at_the_first_record(store: StateStore) -> None:
    store.use_audit_key(KEY)
    fill(store, 2)
    store.use_audit_key(OTHER_KEY)

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 1, "forged")
    assert "PUSHCTL_AUDIT_KEY is not the key the log was written with" in verdict.detail


def test_a_record_without_mac_after_keyed_ones_is_caught(store: StateStore) -> None:
    store.use_audit_key(KEY)
    fill(store, 2)
    store.use_audit_key(None)
    fill(store, 1, start=2)  # someone wrote without the key
    store.use_audit_key(KEY)
    fill(store, 1, start=3)

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 3, "unkeyed")
    assert verdict.detail.startswith("record 3 carries no MAC although record 1 does")


def test_stripping_every_mac_leaves_the_newest_record_unkeyed(
    store: StateStore, open_state: Any
) -> None:
    store.use_audit_key(KEY)
    fill(store, 3)
    open_state.raw("UPDATE pushctl_audit SET mac = NULL")

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 3, "unkeyed")


def test_editing_the_address_column_is_caught_even_without_the_key(
    store: StateStore, open_state: Any
) -> None:
    fill(store, 3)
    open_state.raw("UPDATE pushctl_audit SET address = 'shop-android/other' WHERE seq = 2")

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 2, "changed")
    assert verdict.detail == (
        "record 2's address column says 'shop-android/other' "
        "but the record says 'shop-android/task-1'"
    )
    assert [r.seq for r in store.audit_records(address="shop-android/task-1")] == []


def test_a_tail_cut_off_with_the_head_rewritten_is_caught_by_the_checkpoint(
    store: StateStore, open_state: Any
) -> None:
    store.use_audit_key(KEY)
    fill(store, 4)
    checkpoint = store.audit_head()
    [(third_hash,)] = open_state.raw("SELECT hash FROM pushctl_audit WHERE seq = 3")
    open_state.raw("DELETE FROM pushctl_audit WHERE seq = 4")
    open_state.raw("UPDATE pushctl_meta SET value = '3' WHERE key = 'audit_count'")
    open_state.raw("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (third_hash,))

    assert store.verify_audit().ok  # the log alone cannot tell
    verdict = store.verify_audit(expect_head=checkpoint)

    assert checkpoint.seq == 4
    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 4, "truncated")


def test_a_checkpoint_is_kept_as_the_log_grows(store: StateStore) -> None:
    store.use_audit_key(KEY)
    fill(store, 2)
    checkpoint = store.audit_head()
    fill(store, 2, start=2)

    assert store.verify_audit(expect_head=checkpoint).ok
    assert store.audit_head().seq == 4


def test_a_checkpoint_catches_a_keyless_rewrite_before_it(
    store: StateStore, open_state: Any
) -> None:
    fill(store, 3)
    checkpoint = store.audit_head()
    open_state.raw("UPDATE pushctl_audit SET body = replace(body, 'alice', 'eve') WHERE seq = 1")
    rehash_from(open_state, 1)

    assert store.verify_audit().ok
    verdict = store.verify_audit(expect_head=checkpoint)
    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 3, "changed")


def legacy_row(seq: int, prev_hash: str, address: str) -> tuple[int, str, str, str, str]:
    """A version-1 record as pushctl wrote it before MACs: no `v` field, no MAC."""
    body = canonical_json({"seq": seq, **entry(address).model_dump(mode="json")})
    return seq, prev_hash, record_hash(prev_hash, body), address, body


def test_records_written_before_macs_keep_verifying(store: StateStore, open_state: Any) -> None:
    prev = GENESIS_HASH
    for seq in (1, 2):
        row = legacy_row(seq, prev, f"shop-android/old-{seq}")
        open_state.raw(
            "INSERT INTO pushctl_audit (seq, prev_hash, hash, address, body) "
            "VALUES (?, ?, ?, ?, ?)",
            row,
        )
        prev = row[2]
    open_state.raw("UPDATE pushctl_meta SET value = '2' WHERE key = 'audit_count'")
    open_state.raw("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (prev,))

    assert store.verify_audit().ok
    store.use_audit_key(KEY)
    fill(store, 1)
    verdict = store.verify_audit()
    records = store.audit_records()

    assert (verdict.ok, verdict.count, verdict.unkeyed_prefix, verdict.mac_count) == (
        True,
        3,
        2,
        1,
    )
    assert [r.version for r in records] == [1, 1, 2]
    assert records[0].entry.what.address == "shop-android/old-1"
    assert (
        json.loads(open_state.raw("SELECT body FROM pushctl_audit WHERE seq = 3")[0][0])["v"] == 2
    )


@pytest.mark.parametrize("text", ["12:" + "a" * 64, "audit_head=12:" + "a" * 64])
def test_audit_head_parses_both_spellings(text: str) -> None:
    assert AuditHead.parse(text) == AuditHead(seq=12, hash="a" * 64)


@pytest.mark.parametrize("text", ["12", "x:" + "a" * 64, "12:abc", ""])
def test_audit_head_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="is not an audit head"):
        AuditHead.parse(text)


def test_a_sqlite_file_from_before_macs_gains_the_column_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    row = legacy_row(1, GENESIS_HASH, "shop-android/old-1")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE pushctl_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(
            "CREATE TABLE pushctl_audit (seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL, "
            "hash TEXT NOT NULL, address TEXT, body TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO pushctl_audit VALUES (?, ?, ?, ?, ?)", row)
        meta = {
            "schema": "1",
            "lineage": "l",
            "serial": "0",
            "audit_count": "1",
            "audit_hash": row[2],
        }
        conn.executemany("INSERT INTO pushctl_meta VALUES (?, ?)", meta.items())

    with open_store(f"sqlite:{path}", base_dir=tmp_path) as store:
        store.use_audit_key(KEY)
        store.append_audit(entry("shop-android/new"))
        verdict = store.verify_audit()

    assert (verdict.ok, verdict.count, verdict.unkeyed_prefix) == (True, 2, 1)
