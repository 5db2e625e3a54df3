"""Field-level differences between two JSON-like mappings, as our own `DiffEntry` type.

The only module that imports deepdiff: its result objects are turned into plain DiffEntry values
here and never leave; it is imported on the first comparison of two non-empty bodies, so a plan
that never compares two (adopting tasks, say) does not pay its start-up (about 80 ms). Paths
read like the manifest: `message.android.action.intent`, `tag_rules[0].tags[1]`,
`message.ios.aps["mutable-content"]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from reconciler.domain.plan import DiffEntry

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: deepdiff report keys, mapped to our three operations.
_OPS: dict[str, Literal["add", "remove", "change"]] = {
    "dictionary_item_added": "add",
    "iterable_item_added": "add",
    "dictionary_item_removed": "remove",
    "iterable_item_removed": "remove",
    "values_changed": "change",
    "type_changes": "change",
}


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[DiffEntry, ...]:
    """Every leaf-level difference from `before` to `after`, sorted by path then operation.

    `None` stands for "nothing there": each top-level key of the other side is an add or remove.
    """
    old = dict(before or {})
    new = dict(after or {})
    if not old or not new:
        # One side empty: every key of the other is an add or a remove; no need to compare.
        op: Literal["add", "remove"] = "add" if new else "remove"
        side = new or old
        entries = [
            DiffEntry(op=op, path=format_path([key]), **{"new" if new else "old": value})
            for key, value in side.items()
        ]
        return tuple(sorted(entries, key=lambda e: (e.path, e.op)))
    from deepdiff import DeepDiff  # noqa: PLC0415 - see the module docstring

    # threshold_to_diff_deeper=0: always report per key, never "the whole dict changed".
    tree = DeepDiff(old, new, view="tree", threshold_to_diff_deeper=0, verbose_level=2)
    entries = [
        _entry(_OPS[report], level)
        for report, levels in tree.items()
        if report in _OPS
        for level in levels
    ]
    return tuple(sorted(entries, key=lambda e: (e.path, e.op)))


def format_path(parts: list[Any] | tuple[Any, ...]) -> str:
    """Dotted keys, `[n]` list indexes and `["odd-key"]` for keys that are not identifiers."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += '["' + str(part).replace('"', '\\"') + '"]'
    return text


def _entry(op: Literal["add", "remove", "change"], level: Any) -> DiffEntry:
    from deepdiff.helper import notpresent  # noqa: PLC0415 - loaded with DeepDiff above

    return DiffEntry(
        op=op,
        path=format_path(level.path(output_format="list")),
        old=None if level.t1 is notpresent else level.t1,
        new=None if level.t2 is notpresent else level.t2,
    )
