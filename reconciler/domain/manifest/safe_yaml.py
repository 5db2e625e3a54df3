"""Safe YAML 1.2 loading for manifests and pushctl.yaml (docs/design.md).

The fast path reads the event stream of ruamel.yaml's C parser and builds plain Python values
itself, so the checks (anchors, aliases, tags, merge keys, duplicate keys, depth) cost no second
pass. Only files that fail validation are re-parsed with the round-trip loader, for positions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import events as ev
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.domain.manifest.yaml_guard import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_OPEN_BRACKETS,
    guard_text,
)
from reconciler.errors import SourceProblem

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "Locator", "YamlDocument", "YamlProblems"]

MAX_FILE_BYTES = 1024 * 1024
#: Longest integer text read as a number: Python refuses to convert (or print) ints over 4,300
#: digits, and no manifest field takes a number near this long. Longer stays a string.
MAX_INT_CHARS = 100
#: Longest text that the pure parser re-reads when libyaml refuses it.
PURE_PARSER_MAX_CHARS = 16 * 1024

#: The parser `YAML(typ="safe", pure=False)` uses: ruamel.yaml.clib's CParser when installed.
FAST_PARSER: Any = YAML(typ="safe", pure=False).Parser

# Plain-scalar resolution of ruamel.yaml's YAML 1.2 resolver, so that what its dumper writes
# unquoted reads back as the same type. Timestamps stay strings: YAML 1.2 has no timestamp type,
# and `send_time` is validated as ISO 8601 text.
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
    r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))$"
)
_NUMBER_START = frozenset("-+0123456789.")
_NULL_START = frozenset("~nN")
_BOOL_START = frozenset("tTfF")


@dataclass(frozen=True)
class YamlDocument:
    """One non-empty document of a file and where it starts (1-based)."""

    data: Any
    line: int
    column: int


class YamlProblems(Exception):
    """Raised with every problem found in one file; turned into ManifestError or ConfigError."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def read_source(path: Path) -> str:
    """Read a file as UTF-8 text, refusing files over 1 MiB and bytes that are not UTF-8."""
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problem = _problem(name, 1, 1, f"cannot read: {exc.strerror}", "yaml.io")
        raise YamlProblems([problem]) from exc
    return decode_source(raw, name)


def decode_source(raw: bytes, name: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        message = "file is over 1 MiB; split it into several manifest files"
        raise YamlProblems([_problem(name, 1, 1, message, "yaml.too_large")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8"
        raise YamlProblems([_problem(name, line, column, message, "yaml.encoding")]) from exc


def load_yaml_text(text: str, name: str) -> list[YamlDocument]:
    """Parse every document of `text`; empty documents are skipped."""
    refused = guard_text(text, name)
    if refused:
        raise YamlProblems(refused)
    builder = _Builder(name)
    try:
        with _fast_events(text) as events:
            builder.build(events)
        return _documents(builder)
    except YAMLError as exc:
        # libyaml follows YAML 1.1 and refuses some 1.2 plain scalars that ruamel.yaml itself
        # writes (e.g. `{k: 0?}`); the pure parser decides, and reports real syntax errors.
        # It costs up to ~35 µs a character, so a long text keeps libyaml's verdict.
        if len(text) > PURE_PARSER_MAX_CHARS:
            raise YamlProblems([_syntax_problem(name, exc)]) from exc
    builder = _Builder(name)
    try:
        builder.build(YAML(typ="safe", pure=True).parse(text))
    except YAMLError as exc:
        builder.problems.append(_syntax_problem(name, exc))
    return _documents(builder)


def _syntax_problem(name: str, exc: YAMLError) -> SourceProblem:
    if not isinstance(exc, MarkedYAMLError):
        return _problem(name, 1, 1, f"YAML: {exc}", "yaml.syntax")
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = f"YAML syntax: {exc.problem or exc.context}; fix the indentation or quoting"
    return _problem(name, line, column, problem, "yaml.syntax")


def _documents(builder: _Builder) -> list[YamlDocument]:
    if builder.problems:
        raise YamlProblems(builder.problems)
    return builder.documents


def load_yaml_file(path: Path) -> list[YamlDocument]:
    return load_yaml_text(read_source(path), str(path))


@contextmanager
def _fast_events(text: str) -> Iterator[Iterator[Any]]:
    """The C parser's events of `text`, then the parser disposed of.

    libyaml answers None once the stream has ended, so the events are taken by iterating on
    that sentinel: no Python frame runs between two events (4% of loading a manifest).
    """
    if FAST_PARSER.__name__ != "CParser":  # pragma: no cover - ruamel.yaml.clib missing
        yield YAML(typ="safe", pure=True).parse(text)
        return
    parser = FAST_PARSER(text)
    try:
        yield iter(parser.get_event, None)
    finally:
        parser.dispose()


def _problem(name: str, line: int, column: int, message: str, code: str) -> SourceProblem:
    return SourceProblem(file=name, line=line, column=column, message=message, code=code)


class _Builder:
    """Builds documents from parser events, refusing what safe manifests must not contain."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.documents: list[YamlDocument] = []
        self.problems: list[SourceProblem] = []
        # Each open collection: [container, pending mapping key or _NO_KEY, start event]
        self._stack: list[list[Any]] = []
        self._root: Any = None
        self._root_event: Any = None
        self._nodes = 0

    def build(self, events: Iterator[Any]) -> None:
        """Read every event; values and refusals accumulate in `documents` and `problems`.

        Scalars are most of a manifest's events: their common case (no anchor, tag, merge key
        or double quotes; the parent a list or mapping) is handled inline, without a method
        call per step. Everything else, and every refusal, goes through the methods below.
        """
        stack = self._stack
        for event in events:
            kind = type(event)
            if kind is not ev.ScalarEvent:
                self._structure(event, kind)
                continue
            self._nodes += 1
            if self._nodes > MAX_NODES:
                raise self._too_many(event)
            if (
                event.anchor is not None
                or event.tag is not None
                or event.style == '"'
                or event.value == "<<"
            ):
                self._check_node(event)
            value = _scalar(event)
            if not stack:
                self._root, self._root_event = value, event
                continue
            frame = stack[-1]
            container = frame[0]
            if type(container) is list:
                container.append(value)
            elif frame[1] is _NO_KEY:
                duplicate = value in container
                frame[1] = self._key(value, event, container, nested=False) if duplicate else value
            else:
                if frame[1] is not _BAD_KEY:
                    container[frame[1]] = value
                frame[1] = _NO_KEY

    def _structure(self, event: Any, kind: type) -> None:
        """Every event but a scalar: collections, aliases, document boundaries."""
        if kind in _NODE_EVENTS:
            self._count(event)
        if kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            self._open(event, {} if kind is ev.MappingStartEvent else [])
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            container, _key, start = self._stack.pop()
            self._add(container, start, nested=True)
        elif kind is ev.AliasEvent:
            message = f"aliases (*{event.anchor}) are not allowed; write the value out in full"
            self._refuse(event, message)
            self._add(None, event)
        elif kind is ev.DocumentStartEvent:
            self._root = self._root_event = None
        elif kind is ev.DocumentEndEvent and self._root is not None:
            mark = self._root_event.start_mark
            self.documents.append(YamlDocument(self._root, mark.line + 1, mark.column + 1))

    def _count(self, event: Any) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise self._too_many(event)

    def _too_many(self, event: Any) -> YamlProblems:
        message = f"more than {MAX_NODES:,} values in one file; split it into several files"
        mark = event.start_mark
        # Stop here: reading on would only cost time and memory.
        problem = _problem(self.name, mark.line + 1, mark.column + 1, message, "yaml.too_large")
        return YamlProblems([*self.problems, problem])

    def _open(self, event: Any, container: Any) -> None:
        self._check_node(event)
        if len(self._stack) == MAX_DEPTH:
            self._refuse(event, f"nesting deeper than {MAX_DEPTH} levels; flatten this value")
        elif len(self._stack) == MAX_OPEN_BRACKETS:
            # Far too deep to be a manifest: stop reading (libyaml slows with the square of
            # the depth); the refusal at MAX_DEPTH above is already recorded.
            raise YamlProblems(self.problems)
        self._stack.append([container, _NO_KEY, event])

    def _add(self, value: Any, event: Any, *, nested: bool = False) -> None:
        if not self._stack:
            self._root, self._root_event = value, event
            return
        frame = self._stack[-1]
        container = frame[0]
        if type(container) is list:
            container.append(value)
        elif frame[1] is _NO_KEY:
            frame[1] = self._key(value, event, container, nested=nested)
        else:
            if frame[1] is not _BAD_KEY:
                container[frame[1]] = value
            frame[1] = _NO_KEY

    def _key(self, value: Any, event: Any, mapping: dict[Any, Any], *, nested: bool) -> Any:
        if nested:
            self._refuse(event, "a mapping or list cannot be a key; use a plain string key")
            return _BAD_KEY
        if value in mapping:
            self._refuse(event, f"duplicate key {value!r}; keep one and delete the other")
            return _BAD_KEY
        return value

    def _check_node(self, event: Any) -> None:
        if event.anchor is not None:
            message = f"anchors (&{event.anchor}) are not allowed; write the value out in full"
            self._refuse(event, message)
        if event.tag is not None:
            message = f"tag {event.tag} is not allowed; remove it and write a plain value"
            self._refuse(event, message)
        elif type(event) is ev.ScalarEvent and event.implicit[0] and event.value == "<<":
            self._refuse(event, "merge keys (<<) are not allowed; write the keys out in full")
        if type(event) is ev.ScalarEvent and event.style == '"':
            lone = _SURROGATE.search(event.value)
            if lone is not None:
                message = (
                    f"escape \\u{ord(lone.group()):04x} is half of a UTF-16 pair, not a "
                    "character; write the character itself or \\UXXXXXXXX"
                )
                self._refuse(event, message)

    def _refuse(self, event: Any, message: str) -> None:
        mark = event.start_mark
        code = "yaml.unsafe"
        self.problems.append(_problem(self.name, mark.line + 1, mark.column + 1, message, code))


_NO_KEY = object()
_BAD_KEY = object()
_NODE_EVENTS = frozenset(
    {ev.ScalarEvent, ev.MappingStartEvent, ev.SequenceStartEvent, ev.AliasEvent}
)
#: Only double-quoted escapes can make one: decoded files and the reader refuse raw ones.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _scalar(event: Any) -> Any:
    value: str = event.value
    if not event.implicit[0]:  # quoted, block or tagged: a string as written
        return value
    first = value[:1]
    if first in _NUMBER_START:
        if _INT.match(value):
            return _to_int(value)
        if _FLOAT.match(value):
            return _to_float(value)
    elif first in _BOOL_START:
        if _BOOL.match(value):
            return value.lower() == "true"
    elif (first in _NULL_START or not value) and _NULL.match(value):
        return None
    return value


def _to_int(text: str) -> int | str:
    """The integer; the text itself when it is too long or holds no digits (`-_`, `0x_`)."""
    if len(text) > MAX_INT_CHARS:
        return text
    digits = text.replace("_", "")
    sign = -1 if digits[:1] == "-" else 1
    digits = digits.lstrip("+-")
    base = {"0b": 2, "0x": 16, "0o": 8}.get(digits[:2], 10)
    try:
        return sign * int(digits[2:] if base != 10 else digits, base)
    except ValueError:
        return text


def _to_float(text: str) -> float | str:
    """The float; the text itself when it holds no digits (`._`)."""
    digits = text.replace("_", "").lower()
    if digits.endswith(".nan"):
        return float("nan")
    if digits.endswith(".inf"):
        return float("-inf") if digits[:1] == "-" else float("inf")
    try:
        return float(digits)
    except ValueError:
        return text


class Locator:
    """Finds line and column (1-based) of a value path inside the documents of one file.

    Used only after validation failed. It reads the same event stream the loader parsed (the C
    parser, else the pure one), so any text that loaded can be located: the round-trip loader
    refuses some of it (a tab after a flow mapping). A path that leaves the document points at
    its deepest parent.
    """

    def __init__(self, text: str) -> None:
        try:
            with _fast_events(text) as events:
                self._documents = _positions(events)
        except YAMLError:
            self._documents = _positions(YAML(typ="safe", pure=True).parse(text))

    def document_at(self, line: int, column: int) -> int | None:
        """The index of the document whose top-level collection starts at line:column."""
        for index, node in enumerate(self._documents):
            if node.children is not None and (node.line, node.column) == (line, column):
                return index
        return None

    def position(
        self, document_index: int, path: Sequence[str | int], *, root: tuple[int, int]
    ) -> tuple[int, int]:
        """`root` is the document's own position, for documents that are not collections."""
        node = self._documents[document_index]
        if node.children is None:
            return root
        line, column = node.line, node.column
        for part in path:
            if isinstance(node.children, dict) and _hashable(part) and part in node.children:
                line, column, node = node.children[part]
            elif isinstance(node.children, list) and isinstance(part, int):
                if not 0 <= part < len(node.children):
                    break
                node = node.children[part]
                line, column = node.line, node.column
            else:
                break
        return line, column


@dataclass
class _Positioned:
    """A node's start; `children`: key -> (key line, key column, value) or the items."""

    line: int
    column: int
    children: dict[Any, tuple[int, int, _Positioned]] | list[_Positioned] | None = None


def _hashable(part: Any) -> bool:
    return isinstance(part, str | int)


def _positions(events: Iterator[Any]) -> list[_Positioned]:
    """The documents of an event stream as position trees; empty and null documents skipped."""
    documents: list[_Positioned] = []
    stack: list[tuple[_Positioned, list[Any]]] = []  # (collection, [pending key event])
    root: tuple[_Positioned, Any] | None = None
    for event in events:
        kind = type(event)
        if kind is ev.DocumentStartEvent:
            root = None
            continue
        if kind is ev.DocumentEndEvent:
            if root is not None and root[1] is not None:
                documents.append(root[0])
            continue
        mark: Any = event.start_mark
        if kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            children: Any = {} if kind is ev.MappingStartEvent else []
            stack.append((_Positioned(mark.line + 1, mark.column + 1, children), []))
            continue
        if kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            node, value = stack.pop()[0], _COLLECTION
        elif kind is ev.ScalarEvent or kind is ev.AliasEvent:
            node = _Positioned(mark.line + 1, mark.column + 1)
            value = _scalar(event) if kind is ev.ScalarEvent else None
        else:
            continue
        if not stack:
            root = (node, value)
            continue
        parent, pending = stack[-1]
        if isinstance(parent.children, list):
            parent.children.append(node)
        elif not pending:
            pending.append((node, value))
        else:
            key_node, key = pending.pop()
            if _hashable(key) and parent.children is not None:
                parent.children.setdefault(key, (key_node.line, key_node.column, node))
    return documents


_COLLECTION = object()
