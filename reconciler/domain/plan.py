"""The Plan: a frozen value that says which TPNS calls close the gap, and why.

This module owns the plan's types and its JSON form (`format_version` 1.1: 1.0 plus `source`
and `seal`). Apply takes only a Plan; the reason text explains and never steers.
"""

from __future__ import annotations

import heapq
import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION = "1.1"


class Action(StrEnum):
    CREATE = "create"
    OVERRIDE = "override"
    REPLACE = "replace"
    STOP = "stop"
    RECALL = "recall"
    CANCEL = "cancel"
    ADOPT = "adopt"
    FORGET = "forget"
    NO_OP = "no-op"


#: Text-output symbol of each action (docs/design.md, "Plan format").
SYMBOLS: dict[Action, str] = {
    Action.CREATE: "+",
    Action.OVERRIDE: "~",
    Action.REPLACE: "-/+",
    Action.STOP: "-",
    Action.RECALL: "-",
    Action.CANCEL: "-",
    Action.ADOPT: "=",
    Action.FORGET: "=",
    Action.NO_OP: " ",
}

#: Actions that call TPNS (the rest only touch the state store).
MUTATING_ACTIONS = frozenset(
    {Action.CREATE, Action.OVERRIDE, Action.REPLACE, Action.STOP, Action.RECALL, Action.CANCEL}
)


class _Frozen(BaseModel):
    # defer_build: validators are built on first use, as `reconciler.records.Frozen` says.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ApiCall(_Frozen):
    """One TPNS request the change will make, in order. Bodies never hold secrets."""

    path: str
    body: dict[str, Any]


class DiffEntry(_Frozen):
    """One field-level difference (our own diff type; deepdiff never leaves diff.py)."""

    op: Literal["add", "remove", "change"]
    path: str
    old: Any = None
    new: Any = None


class Change(_Frozen):
    """One action on one task address (`app/name`)."""

    address: str
    app: str
    action: Action
    push_id: str | None = None
    #: For create/override/replace: the address the newly created push belongs to.
    new_address: str | None = None
    api_calls: tuple[ApiCall, ...] = ()
    reason: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diff: tuple[DiffEntry, ...] = ()
    reversible: bool = False
    audience: str = ""
    deadline: datetime | None = None
    warnings: tuple[str, ...] = ()
    #: Addresses whose changes must be applied before this one.
    depends_on: tuple[str, ...] = ()


class Diagnostic(_Frozen):
    severity: Literal["error", "warning"]
    code: str
    address: str
    file: str = ""
    line: int = 0
    column: int = 0
    message: str


class ApiUsage(_Frozen):
    """TPNS calls made while refreshing, per endpoint path, beside the fewest possible."""

    calls: dict[str, int] = Field(default_factory=dict)
    lower_bound: int = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class PlanSource(_Frozen):
    """What the plan was made from: the commit, and the manifests and config it read."""

    #: GITHUB_SHA, CI_COMMIT_SHA or `git rev-parse HEAD`; None outside CI and git.
    commit: str | None = None
    #: SHA-256 over `inputs` (canonical JSON).
    inputs_digest: str = ""
    #: Path (relative to the config's folder where it lies inside it) -> SHA-256 of the file.
    inputs: dict[str, str] = Field(default_factory=dict)


class PlanSeal(_Frozen):
    """The plan's own digest, and its HMAC-SHA256 signature when a plan key was set."""

    digest: str
    signature: str | None = None
    #: Names the key (a digest of it, never the key) so a wrong key can be told from a forgery.
    key_id: str | None = None


class Plan(_Frozen):
    format_version: str = FORMAT_VERSION
    tool_version: str
    created_at: datetime
    not_after: datetime | None = None
    applyable: bool = True
    summary: dict[str, int] = Field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    api_usage: ApiUsage = Field(default_factory=ApiUsage)
    #: SHA-256 of the canonical desired input.
    input_digest: str = ""
    state_lineage: str = ""
    #: The global state serial when planned (plan files without `state_serials` use it).
    state_serial: int = 0
    #: app -> its state serial when planned, for every app the changes touch.
    state_serials: dict[str, int] = Field(default_factory=dict)
    #: push id -> fingerprint of the live record read while planning.
    live_fingerprints: dict[str, str] = Field(default_factory=dict)
    source: PlanSource | None = None
    #: Over every other field: apply refuses a plan whose seal does not match (plan_seal.py).
    seal: PlanSeal | None = None

    @property
    def is_empty(self) -> bool:
        return not any(c.action is not Action.NO_OP for c in self.changes)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The plan file's text: `json.dumps(..., indent=indent)` of the plan, byte for byte.

        Indented output is written by pydantic's serializer: `json.dumps` falls back to its
        pure-Python encoder whenever `indent` is set, which took seconds at 10,000 changes.
        """
        absent = self._absent_fields()
        if indent is None:
            document = self.model_dump(mode="json", exclude=absent)
            return json.dumps(document) + "\n"
        text = self.model_dump_json(indent=indent, exclude=absent)
        return _escape_non_ascii(text) + "\n"

    def _absent_fields(self) -> set[str]:
        """Fields left out of the file, so older readers see the field list they know."""
        # An addition to format 1.0: plans without changes keep the 1.0 field list.
        absent = set() if self.state_serials else {"state_serials"}
        # Additions of format 1.1, written by `plan`: an in-memory plan has neither.
        return absent | {name for name in ("source", "seal") if getattr(self, name) is None}

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.model_validate_json(text)


#: What `json.dumps` escapes by default (`ensure_ascii`): DEL and everything past ASCII.
_NOT_ASCII = re.compile(r"[^\x00-\x7e]")


def _escape_non_ascii(text: str) -> str:
    """`\\uXXXX` escapes (surrogate pairs past the BMP), as `json.dumps` writes them."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _NOT_ASCII.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def summarize(changes: tuple[Change, ...] | list[Change], *, no_ops: int = 0) -> dict[str, int]:
    """A count per action name, every action present, in a stable order.

    No-op changes are not listed in a plan; `no_ops` counts the tasks that already match.
    """
    counts = {action.value: 0 for action in Action}
    for change in changes:
        counts[change.action.value] += 1
    counts[Action.NO_OP.value] += no_ops
    return counts


#: Order of a task's own changes: state-only first, then status calls, then new pushes.
ACTION_RANK = {
    Action.ADOPT: 0,
    Action.FORGET: 0,
    Action.CANCEL: 1,
    Action.STOP: 1,
    Action.RECALL: 1,
    Action.REPLACE: 2,
    Action.OVERRIDE: 2,
    Action.CREATE: 3,
}


def order_changes(changes: list[Change]) -> list[Change]:
    """Dependencies first, then by address and action (a dependency loop keeps that order)."""
    keys = [(c.address, ACTION_RANK.get(c.action, 9), index) for index, c in enumerate(changes)]
    waiting, dependents = _dependency_graph(changes)
    ready = [keys[i] for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    placed: list[int] = []
    while ready:
        index = heapq.heappop(ready)[2]
        placed.append(index)
        for after in dependents.get(index, []):
            waiting[after] -= 1
            if waiting[after] == 0:
                heapq.heappush(ready, keys[after])
    stuck = sorted(keys[i] for i in set(range(len(changes))) - set(placed))
    return [changes[i] for i in placed] + [changes[key[2]] for key in stuck]


def _dependency_graph(changes: list[Change]) -> tuple[list[int], dict[int, list[int]]]:
    """How many changes each one waits for, and which changes wait for each one."""
    by_address: dict[str, list[int]] = {}
    for index, change in enumerate(changes):
        by_address.setdefault(change.address, []).append(index)
    waiting = [0] * len(changes)
    dependents: dict[int, list[int]] = {}
    for index, change in enumerate(changes):
        for address in set(change.depends_on) - {change.address}:
            for before in by_address.get(address, []):
                dependents.setdefault(before, []).append(index)
                waiting[index] += 1
    return waiting, dependents


def select_targets(changes: list[Change], targets: frozenset[str]) -> list[Change]:
    """Changes of the target addresses (also as the new push's address), plus their dependencies."""
    if not targets:
        return changes
    wanted = set(targets)
    kept = [c for c in changes if c.address in wanted or c.new_address in wanted]
    needed = {d for c in kept for d in c.depends_on}
    while needed - wanted:
        wanted |= needed
        kept = [c for c in changes if c.address in wanted or c.new_address in wanted]
        needed = {d for c in kept for d in c.depends_on}
    return kept
