"""How plan values read in human output: JSON-like values, times, API calls and diff lines.

Shared by the text and Markdown renderers so both show a value, a deadline or a call the same
way. User text is made safe for a terminal here: control characters never reach the output raw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from reconciler.domain.plan import ApiCall, Change, DiffEntry


def clean_text(text: str) -> str:
    """Escape control characters (ESC, CR, C1 codes...) so user text cannot drive a terminal.

    Newlines are kept; callers decide how a multi-line text is laid out.
    """
    if text.isprintable():  # the common case, and no control character can be in it
        return text
    return _CONTROL.sub(_escape_char, text)


#: Unicode category Cc (C0, DEL and C1 codes), newline aside: one regex pass, not a call per char.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _escape_char(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def format_value(value: Any) -> str:
    """One value on one line, as JSON (strings quoted), keys in their given order."""
    kind = type(value)
    if kind is str:
        # What the encoder writes for a string, without an encoder call per diff line.
        return clean_text(encode_basestring(value))
    if kind is int:
        return str(value)
    return clean_text(_ONE_LINE_JSON.encode(value))


_ONE_LINE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), default=str)


def format_datetime(moment: datetime) -> str:
    """`2026-12-01 09:00 +08:00`: minutes are precise enough and the offset is never implied."""
    text = moment.strftime("%Y-%m-%d %H:%M")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes_east = int(offset.total_seconds()) // 60
    sign = "+" if minutes_east >= 0 else "-"
    hours, minutes = divmod(abs(minutes_east), 60)
    return f"{text} {sign}{hours:02d}:{minutes:02d}"


def format_call(call: ApiCall) -> str:
    """`POST /v3/push/stop_push_msg {"pushId": "1"}`, nested parts folded to `{…}` / `[…]`.

    Message bodies can be long; their content is already shown by the diff lines, while the
    top-level scalars (push id, collapse id, audience type) are what a reviewer checks here.
    """
    fields = ", ".join(f"{format_value(key)}: {_folded(value)}" for key, value in call.body.items())
    return f"POST {clean_text(call.path)} {{{fields}}}"


def _folded(value: Any) -> str:
    if isinstance(value, Mapping) and value:
        return "{…}"
    if isinstance(value, list | tuple) and value:
        return "[…]"
    return format_value(value)


class DiffLine(NamedTuple):
    """One displayed difference: a DiffEntry's fields, cheap enough for one per rendered line."""

    op: str
    path: str
    old: Any = None
    new: Any = None


def format_diff_entry(entry: DiffLine | DiffEntry) -> tuple[str, str]:
    """The symbol (`+`, `-`, `~`) and the text of one field-level difference."""
    path = clean_text(entry.path)
    if entry.op == "add":
        return "+", f"{path}: {format_value(entry.new)}"
    if entry.op == "remove":
        return "-", f"{path}: {format_value(entry.old)}"
    return "~", f"{path}: {format_value(entry.old)} -> {format_value(entry.new)}"


def displayed_diff(change: Change) -> Sequence[DiffLine | DiffEntry]:
    """The diff to show: the planner's, or for a brand-new push every field of its content.

    The planner computes diffs only for tasks that differ; a create has nothing to differ
    from, yet a reviewer still needs to read what will be sent.
    """
    content = _new_content(change)
    if content is None:
        return change.diff
    return [DiffLine("add", path, None, value) for path, value in _leaves(content)]


def displayed_diff_texts(change: Change) -> Iterator[tuple[str, str]]:
    """`format_diff_entry` of each line of `displayed_diff`, without an entry object for each
    field of a new push (the lines of 10,000 adopt changes are most of a large text plan)."""
    content = _new_content(change)
    if content is None:
        for entry in change.diff:
            yield format_diff_entry(entry)
        return
    for path, value in _leaves(content):
        yield "+", f"{clean_text(path)}: {format_value(value)}"


def _new_content(change: Change) -> Mapping[str, Any] | None:
    """What a change with nothing before it will hold: every field of it is an addition."""
    if change.before is not None or not change.after:
        return None
    content: Mapping[str, Any] = change.after.get("push") or change.after
    return content


def _leaves(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        # A plan's values are plain JSON values: `dict`, not the slower `Mapping` ABC check.
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{path}.")
        else:
            yield path, value
