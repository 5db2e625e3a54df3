"""The links a notification opens, and whether their hosts are allowed.

A host that is one or two typing slips away from an allowed host is almost always a typo (the
`exmaple.com` that went out in the demo), so the finding says which host was meant.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

FieldPath = tuple[str | int, ...]
#: At most this many edits (insert, delete, substitute, swap neighbours) count as a near miss.
NEAR_MISS_EDITS = 2


@dataclass(frozen=True)
class Link:
    path: FieldPath
    url: str
    host: str


@dataclass(frozen=True)
class NearMiss:
    allowed: str
    meant_host: str
    edits: int


def links_in(node: Any, path: FieldPath = ()) -> Iterator[Link]:
    """Every http(s) URL among the string values under `node`, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from links_in(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from links_in(value, (*path, index))
    elif isinstance(node, str) and node.lower().startswith(("http://", "https://")):
        host = (urlsplit(node).hostname or "").rstrip(".")
        yield Link(path, node, host)


def host_allowed(host: str, allow: Sequence[str]) -> bool:
    return any(_matches(host, pattern) for pattern in allow)


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def near_miss(host: str, allow: Sequence[str]) -> NearMiss | None:
    """The allowed host `host` most likely meant, if it is a few edits from one."""
    best: NearMiss | None = None
    for pattern in allow:
        domain = pattern.removeprefix("*.")
        labels = domain.count(".") + 1
        host_labels = host.split(".")
        if len(host_labels) < labels:
            continue
        tail = ".".join(host_labels[-labels:])
        head = host_labels[:-labels]
        if pattern.startswith("*.") and not head:
            continue
        edits = edit_distance(tail, domain)
        # A short name is a few edits from many others: the slip must be small beside it.
        budget = min(NEAR_MISS_EDITS, len(domain.split(".")[0]) // 3)
        if 0 < edits <= budget and (best is None or edits < best.edits):
            best = NearMiss(pattern, ".".join([*head, domain]), edits)
    return best


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: a swap of two neighbours is one edit."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]
