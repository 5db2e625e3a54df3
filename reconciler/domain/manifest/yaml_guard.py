"""Refusals made on the raw text before any YAML parser sees it.

Some inputs are cheap to write and costly to parse: libyaml's time grows with the square of
flow nesting (200 KB of `[` took minutes), a flat list of 400k items took seconds and half a
gigabyte, and a control character makes the reader raise instead of report. Each check here is
a C-speed string scan, so hostile input is refused in milliseconds, located at file:line:column.
"""

from __future__ import annotations

import re

from reconciler.errors import SourceProblem

#: Deepest nesting a manifest may use (the parser refuses deeper collections one by one).
MAX_DEPTH = 32
#: `[` and `{` open at once, counted on the raw text before parsing. Brackets inside quoted
#: text count too, so the bound is well above MAX_DEPTH: only hostile input reaches it.
MAX_OPEN_BRACKETS = 4 * MAX_DEPTH
#: Values (scalars, lists, mappings) one file may hold: ~2,000 tasks; more is split into files.
MAX_NODES = 50_000

# What lies outside the YAML 1.2 printable set (spec 5.1: tab, line breaks, printable ASCII,
# NEL and the non-surrogate BMP and astral planes); the reader refuses it. Written as the
# complement's ranges: the negated class took ~5 ms to compile, on every command's start.
_NOT_PRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)
_BRACKET = re.compile(r"[\[\]{}]")


def guard_text(text: str, name: str) -> list[SourceProblem]:
    """The problems that make `text` unsafe to hand to a parser; [] when it may be parsed."""
    for check in (_unprintable, _bracket_depth, _flow_items):
        problem = check(text, name)
        if problem is not None:
            return [problem]
    return []


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _at(text: str, name: str, offset: int, message: str, code: str) -> SourceProblem:
    line, column = position(text, offset)
    return SourceProblem(file=name, line=line, column=column, message=message, code=code)


def _unprintable(text: str, name: str) -> SourceProblem | None:
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return None
    point = ord(found.group())
    message = f"character U+{point:04X} is not allowed in YAML; delete it" + (
        ", or write it as an escape inside double quotes" if point < 0xD800 else ""
    )
    return _at(text, name, found.start(), message, "yaml.syntax")


def _bracket_depth(text: str, name: str) -> SourceProblem | None:
    if text.count("[") + text.count("{") <= MAX_OPEN_BRACKETS:
        return None
    depth = 0
    for bracket in _BRACKET.finditer(text):
        if bracket.group() in "[{":
            depth += 1
            if depth > MAX_OPEN_BRACKETS:
                message = (
                    f"more than {MAX_OPEN_BRACKETS} `[` or `{{` open at once (nesting deeper "
                    f"than {MAX_DEPTH} levels); flatten this value"
                )
                return _at(text, name, bracket.start(), message, "yaml.unsafe")
        elif depth:
            depth -= 1
    return None


def _flow_items(text: str, name: str) -> SourceProblem | None:
    if text.count(",") <= MAX_NODES:
        return None
    offset = -1
    for _ in range(MAX_NODES + 1):
        offset = text.find(",", offset + 1)
    message = (
        f"more than {MAX_NODES:,} comma-separated values in one file; "
        "split it into several manifest files"
    )
    return _at(text, name, offset, message, "yaml.too_large")
