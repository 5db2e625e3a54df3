"""The audit log kept by both backends: appends, reads, and tampering caught by verify."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.errors import AuditError
from reconciler.state import AuditEntry, Result, StateStore, What, Where, Who, Why
from reconciler.state.audit import GENESIS_HASH

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def entry(
    address: str = "shop-android/bf-teaser", *, kind: str = "intent", user: str = "alice"
) -> AuditEntry:
    return AuditEntry(
        kind=kind,
        run_id="run-1",
        who=Who(user=user, ci_actor="octocat"),
        where=Where(host="runner-7", ci_run_url="https://github.com/o/r/actions/runs/1"),
        why=Why(commit="abc123", pr="42", plan_digest="sha256:plan"),
        what=What(
            action="create",
            address=address,
            push_id=None,
            request={"message": {"title": "Soldes d'été ☀"}},
        ),
        when=WHEN,
        result=Result(ret_code=0, err_msg="") if kind == "outcome" else None,
    )


def fill(store: StateStore, count: int = 4) -> None:
    for n in range(count):
        store.append_audit(entry(f"shop-android/task-{n}"))


def test_records_get_seq_and_chain_from_genesis(store: StateStore) -> None:
    first = store.append_audit(entry())
    second = store.append_audit(entry(kind="outcome"))

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.entry == entry()
    assert store.audit_records() == [first, second]


def test_hash_is_sha256_of_prev_hash_and_canonical_body(store: StateStore, open_state: Any) -> None:
    record = store.append_audit(entry())

    [(body,)] = open_state.raw("SELECT body FROM pushctl_audit WHERE seq = 1")
    assert record.hash == hashlib.sha256((GENESIS_HASH + body).encode("utf-8")).hexdigest()
    assert body.startswith('{"kind":"intent","result":null,"run_id":"run-1","seq":1,')
    assert '"title":"Soldes d\'été ☀"' in body  # UTF-8 kept, not \\u escapes
    assert '"when":"2026-11-22T09:00:00Z"' in body


def test_credential_named_fields_are_masked_when_appended(store: StateStore) -> None:
    leaky = entry().model_copy(
        update={"what": What(action="create", request={"Sign": "abc", "title": "t"})}
    )

    stored = store.append_audit(leaky)

    assert stored.entry.what.request == {"Sign": "***", "title": "t"}


def test_audit_records_filter_by_address(store: StateStore) -> None:
    store.append_audit(entry("shop-android/a"))
    store.append_audit(entry("shop-android/b"))
    store.append_audit(entry("shop-android/a", kind="outcome"))

    records = store.audit_records(address="shop-android/a")

    assert [(r.seq, r.entry.kind) for r in records] == [(1, "intent"), (3, "outcome")]


def test_verify_passes_on_an_untouched_log(store: StateStore) -> None:
    assert store.verify_audit().ok
    fill(store)

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.count, verdict.first_bad_seq, verdict.problem) == (
        True,
        4,
        None,
        None,
    )


def test_verify_detects_a_changed_record(store: StateStore, open_state: Any) -> None:
    fill(store)
    open_state.raw(
        "UPDATE pushctl_audit SET body = replace(body, 'alice', 'mallory') WHERE seq = 2"
    )

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 2, "changed")
    assert verdict.detail == "record 2 does not match its hash"


def test_verify_detects_a_removed_record(store: StateStore, open_state: Any) -> None:
    fill(store)
    open_state.raw("DELETE FROM pushctl_audit WHERE seq = 2")

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.count, verdict.first_bad_seq, verdict.problem) == (
        False,
        3,
        2,
        "removed",
    )


def test_verify_detects_the_last_record_removed(store: StateStore, open_state: Any) -> None:
    fill(store)
    open_state.raw("DELETE FROM pushctl_audit WHERE seq = 4")

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 4, "removed")
    assert verdict.detail == "the log ends at record 3 but 4 were written"


def test_verify_detects_a_reordered_pair(store: StateStore, open_state: Any) -> None:
    fill(store)
    for old, new in ((2, -2), (3, 2), (-2, 3)):
        open_state.raw("UPDATE pushctl_audit SET seq = ? WHERE seq = ?", (new, old))

    verdict = store.verify_audit()

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 2, "reordered")


def test_reading_a_mangled_record_names_it(store: StateStore, open_state: Any) -> None:
    fill(store, 2)
    open_state.raw("UPDATE pushctl_audit SET body = 'not json' WHERE seq = 2")

    with pytest.raises(AuditError, match=r"audit record 2 .* is unreadable") as info:
        store.audit_records()
    assert "pushctl audit verify" in str(info.value)
    assert store.verify_audit().problem == "changed"


def test_concurrent_writers_keep_one_unbroken_chain(open_state: Any) -> None:
    stores = [open_state() for _ in range(4)]

    def write(store: StateStore, n: int) -> None:
        for i in range(8):
            store.append_audit(entry(f"app-{n}/task-{i}"))

    threads = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    verdict = open_state().verify_audit()
    assert (verdict.ok, verdict.count) == (True, 32)
    assert [r.seq for r in stores[0].audit_records()] == list(range(1, 33))


# -- the record type ---------------------------------------------------------------------------


def test_when_is_stored_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    moved = entry().model_copy(update={"when": WHEN.astimezone(paris)})

    assert AuditEntry.model_validate(moved.model_dump()).model_dump(mode="json")["when"] == (
        "2026-11-22T09:00:00Z"
    )


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        AuditEntry(**{**entry().model_dump(), "when": datetime(2026, 1, 1)})


def test_an_outcome_needs_a_result() -> None:
    with pytest.raises(ValidationError, match="outcome record needs a result"):
        AuditEntry(**{**entry().model_dump(), "kind": "outcome", "result": None})
