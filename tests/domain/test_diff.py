"""diff.py: field-level differences with manifest-style paths, in a stable order."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from reconciler.domain.diff import diff, format_path
from reconciler.domain.plan import DiffEntry


def test_nested_change_has_a_dotted_path() -> None:
    before = {"message": {"android": {"action": {"intent": "app://a"}}}}
    after = {"message": {"android": {"action": {"intent": "app://b"}}}}
    assert diff(before, after) == (
        DiffEntry(op="change", path="message.android.action.intent", old="app://a", new="app://b"),
    )


def test_adds_removes_and_list_items_are_reported_per_leaf_in_path_order() -> None:
    before: dict[str, Any] = {"b": 1, "tags": ["x", "y"], "keep": True}
    after: dict[str, Any] = {"a": 2, "tags": ["x"], "keep": True}
    assert diff(before, after) == (
        DiffEntry(op="add", path="a", new=2),
        DiffEntry(op="remove", path="b", old=1),
        DiffEntry(op="remove", path="tags[1]", old="y"),
    )


def test_many_changed_keys_are_still_reported_one_by_one() -> None:
    entries = diff({"a": 1, "b": 2, "c": 3}, {"x": 1, "y": 2, "c": 4})
    assert [(e.op, e.path) for e in entries] == [
        ("remove", "a"),
        ("remove", "b"),
        ("change", "c"),
        ("add", "x"),
        ("add", "y"),
    ]


def test_type_change_is_a_change() -> None:
    assert diff({"expire_time": 800}, {"expire_time": "800"}) == (
        DiffEntry(op="change", path="expire_time", old=800, new="800"),
    )


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, {"a": 1}, (DiffEntry(op="add", path="a", new=1),)),
        ({"a": 1}, None, (DiffEntry(op="remove", path="a", old=1),)),
        (None, None, ()),
        ({"a": {"b": [1]}}, {"a": {"b": [1]}}, ()),
    ],
    ids=["from-nothing", "to-nothing", "both-nothing", "equal"],
)
def test_nothing_and_equal_sides(
    before: dict[str, Any] | None, after: dict[str, Any] | None, expected: tuple[DiffEntry, ...]
) -> None:
    assert diff(before, after) == expected


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        (["message", "title"], "message.title"),
        (["tag_rules", 0, "tag_items", 1, "tags", 2], "tag_rules[0].tag_items[1].tags[2]"),
        (["message", "ios", "aps", "mutable-content"], 'message.ios.aps["mutable-content"]'),
        ([0, "a"], "[0].a"),
        (['we"ird'], '["we\\"ird"]'),
    ],
    ids=["dotted", "indexes", "odd-key", "leading-index", "quote"],
)
def test_path_format(parts: list[Any], path: str) -> None:
    assert format_path(parts) == path


def test_result_is_sorted_and_holds_only_plain_values() -> None:
    before = {"z": {"k": 1}, "m": [1, 2, 3]}
    after = {"z": {"k": 2, "n": {"deep": True}}, "m": [1]}
    entries = diff(before, after)
    assert [e.path for e in entries] == sorted(e.path for e in entries)
    assert all(type(e) is DiffEntry for e in entries)
    assert {e.path: e.new for e in entries}["z.n"] == {"deep": True}


def test_an_empty_side_lists_each_top_level_key_once() -> None:
    body = {"push": {"message": {"title": "t"}}, "odd-key": [1, 2], "status": "PUSH_INIT"}
    added = diff(None, body)
    assert [(e.op, e.path, e.new) for e in added] == [
        ("add", '["odd-key"]', [1, 2]),
        ("add", "push", {"message": {"title": "t"}}),
        ("add", "status", "PUSH_INIT"),
    ]
    removed = diff(body, {})
    assert [(e.op, e.path, e.old) for e in removed] == [
        ("remove", '["odd-key"]', [1, 2]),
        ("remove", "push", {"message": {"title": "t"}}),
        ("remove", "status", "PUSH_INIT"),
    ]


def test_one_sided_diffs_do_not_load_deepdiff() -> None:
    # A plan that only adopts or creates tasks never compares two bodies: it should not pay
    # for importing deepdiff. A fresh interpreter shows what was imported.
    script = (
        "import sys\n"
        "from reconciler.domain.diff import diff\n"
        "assert [e.op for e in diff(None, {'title': 'a'})] == ['add']\n"
        "assert [e.op for e in diff({'title': 'a'}, None)] == ['remove']\n"
        "print('deepdiff' in sys.modules)\n"
        "assert [e.op for e in diff({'title': 'a'}, {'title': 'b'})] == ['change']\n"
        "print('deepdiff' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
