"""The state store contract, run on both backends: lineage, serial, bindings, intents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import StateError
from reconciler.records import Intent, LiveStatus, TaskBinding
from reconciler.state import StateStore, open_store

WHEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def binding(address: str = "shop-android/bf-teaser", **changes: Any) -> TaskBinding:
    fields: dict[str, Any] = {
        "address": address,
        "app": address.split("/", maxsplit=1)[0],
        "push_id": "3895624686",
        "created_by_pushctl": True,
        "last_status": LiveStatus.WAIT,
        "date": WHEN,
        "collapse_id": 42,
        "content_digest": "sha256:abc",
        "body": {"audience_type": "all", "message": {"title": "Sale", "content": "50% off"}},
    }
    return TaskBinding(**{**fields, **changes})


def intent(intent_id: str, *, address: str = "shop-android/bf-teaser", minute: int = 0) -> Intent:
    return Intent(
        intent_id=intent_id,
        run_id="run-1",
        address=address,
        app=address.split("/", maxsplit=1)[0],
        action="create",
        body_digest="sha256:def",
        body={"audience_type": "all", "message_type": "notify"},
        created_at=WHEN.replace(minute=minute),
    )


# -- lineage and serial ------------------------------------------------------------------------


def test_lineage_is_created_once_and_kept(open_state: Any) -> None:
    first = open_state().snapshot()
    again = open_state().snapshot()

    assert uuid.UUID(first.lineage)
    assert again.lineage == first.lineage
    assert first.serial == 0


def test_separate_stores_have_separate_lineages(tmp_path: Path) -> None:
    one = open_store("sqlite:one.db", base_dir=tmp_path)
    two = open_store("sqlite:two.db", base_dir=tmp_path)

    assert one.snapshot().lineage != two.snapshot().lineage
    one.close()
    two.close()


def test_bump_serial_counts_up_and_persists(open_state: Any) -> None:
    store = open_state()

    assert [store.bump_serial(), store.bump_serial()] == [1, 2]
    assert open_state().snapshot().serial == 2


# -- bindings ----------------------------------------------------------------------------------


def test_binding_round_trips_every_field(store: StateStore) -> None:
    store.put_binding(binding())

    assert store.get_binding("shop-android/bf-teaser") == binding()


def test_put_binding_replaces_the_stored_one(store: StateStore) -> None:
    store.put_binding(binding())
    store.put_binding(binding(push_id="999", last_status=LiveStatus.FINISHED))

    assert store.get_binding("shop-android/bf-teaser") == binding(
        push_id="999", last_status=LiveStatus.FINISHED
    )
    assert len(store.list_bindings()) == 1


def test_list_bindings_is_sorted_by_address(store: StateStore) -> None:
    for address in ("shop-ios/b", "shop-android/z", "shop-android/a"):
        store.put_binding(binding(address))

    assert [b.address for b in store.list_bindings()] == [
        "shop-android/a",
        "shop-android/z",
        "shop-ios/b",
    ]


def test_remove_binding_forgets_only_that_task(store: StateStore) -> None:
    store.put_binding(binding())
    store.put_binding(binding("shop-ios/x"))

    store.remove_binding("shop-android/bf-teaser")
    store.remove_binding("shop-android/never-stored")

    assert store.get_binding("shop-android/bf-teaser") is None
    assert [b.address for b in store.list_bindings()] == ["shop-ios/x"]


def test_snapshot_holds_bindings_by_address(store: StateStore) -> None:
    store.put_binding(binding())
    store.put_binding(binding("shop-ios/x"))

    snapshot = store.snapshot()

    assert snapshot.bindings == {
        "shop-android/bf-teaser": binding(),
        "shop-ios/x": binding("shop-ios/x"),
    }


# -- intents -----------------------------------------------------------------------------------


def test_open_intents_survive_reopening(open_state: Any) -> None:
    open_state().open_intent(intent("run-1:a"))

    reopened = open_state()

    assert reopened.open_intents() == [intent("run-1:a")]
    assert reopened.snapshot().open_intents == (intent("run-1:a"),)


def test_open_intents_come_oldest_first_and_filter_by_app(store: StateStore) -> None:
    store.open_intent(intent("run-1:b", minute=5))
    store.open_intent(intent("run-1:a", minute=7))
    store.open_intent(intent("run-1:c", address="shop-ios/x", minute=1))

    assert [i.intent_id for i in store.open_intents()] == ["run-1:c", "run-1:b", "run-1:a"]
    assert [i.intent_id for i in store.open_intents("shop-ios")] == ["run-1:c"]
    assert store.open_intents("other-app") == []


def test_closed_intent_is_no_longer_open_even_after_reopening(open_state: Any) -> None:
    store = open_state()
    store.open_intent(intent("run-1:a"))
    store.open_intent(intent("run-1:b"))

    store.close_intent("run-1:a", push_id="3895624686", outcome="created")

    assert [i.intent_id for i in open_state().open_intents()] == ["run-1:b"]
    recorded = open_state.raw(
        "SELECT push_id, outcome FROM pushctl_intents WHERE intent_id = ?", ("run-1:a",)
    )
    assert recorded == [("3895624686", "created")]


def test_closing_an_unknown_intent_is_an_error(store: StateStore) -> None:
    with pytest.raises(StateError, match="intent nope is unknown"):
        store.close_intent("nope", push_id=None, outcome="rejected")


def test_closing_an_intent_twice_is_an_error(store: StateStore) -> None:
    store.open_intent(intent("run-1:a"))
    store.close_intent("run-1:a", push_id=None, outcome="rejected 1008004")

    with pytest.raises(StateError, match=r"already closed \(rejected 1008004\)"):
        store.close_intent("run-1:a", push_id="1", outcome="created")


def test_opening_the_same_intent_twice_is_an_error(store: StateStore) -> None:
    store.open_intent(intent("run-1:a"))

    with pytest.raises(StateError, match="already recorded") as info:
        store.open_intent(intent("run-1:a"))
    assert info.value.hint == "each /v3/push/app call needs its own intent id"


# -- opening -----------------------------------------------------------------------------------


def test_sqlite_path_is_relative_to_base_dir_and_folders_are_made(tmp_path: Path) -> None:
    store = open_store("sqlite:.pushctl/state.db", base_dir=tmp_path)
    store.close()

    assert (tmp_path / ".pushctl" / "state.db").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/x", "unknown state URL 'mysql'"),
        ("sqlite:", "names no file"),
    ],
)
def test_bad_state_urls_say_what_to_write(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(StateError, match=message) as info:
        open_store(url, base_dir=tmp_path)
    assert "sqlite:.pushctl/state.db" in str(info.value)


def test_a_file_that_is_not_a_database_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_text("not a database, just text " * 100)

    with pytest.raises(StateError, match=r"state\.db"):
        open_store("sqlite:state.db", base_dir=tmp_path)


def test_unreachable_postgres_is_a_state_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://bob:hunter2@/nodb?host=/nonexistent-socket-dir&connect_timeout=1"

    with pytest.raises(StateError, match="cannot connect to the state database") as info:
        open_store(url, base_dir=tmp_path)
    assert "hunter2" not in str(info.value)
    assert "postgresql://bob@/nonexistent-socket-dir/nodb" in str(info.value)
