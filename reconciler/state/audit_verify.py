"""Verifying the audit log: the hash chain, the stored columns, the MACs and a checkpoint.

Without the audit key only internal consistency can be proven: anyone who can write the store
can rewrite a record and recompute every hash after it. With the key, every record from the
first MAC'd one on must carry a valid MAC, so a rewritten chain is caught. A checkpoint (the
head an apply printed) catches a tail cut off together with the store's own head record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

from reconciler.records import Frozen
from reconciler.state.audit import GENESIS_HASH, AuditRow, mac_matches, record_hash

AuditProblem = Literal["changed", "removed", "reordered", "forged", "unkeyed", "truncated"]

_HEAD = re.compile(r"^(?:audit_head=)?(\d+):([0-9a-f]{64})$")


class AuditHead(Frozen):
    """The newest record of the log: its seq and hash (seq 0 and the genesis hash when empty)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Self:
        """`SEQ:HASH`, as apply prints it; `audit_head=SEQ:HASH` (a CI output line) too."""
        match = _HEAD.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not an audit head: write SEQ:HASH (64 hex digits)")
        return cls(seq=int(match.group(1)), hash=match.group(2))


# Constructed, not validated: its values are constants, and declaring it builds no validator.
EMPTY_HEAD = AuditHead.model_construct(seq=0, hash=GENESIS_HASH)


class AuditVerification(Frozen):
    """The verdict of `verify_chain`: `count` records read; the first problem, if any."""

    ok: bool
    count: int
    first_bad_seq: int | None = None
    problem: AuditProblem | None = None
    detail: str = ""
    #: True when the MACs were checked with an audit key.
    keyed: bool = False
    #: Records that carry a MAC (checked or not).
    mac_count: int = 0
    #: Records before the first MAC'd one: written before a key was in use.
    unkeyed_prefix: int = 0


Finding = tuple[int, AuditProblem, str]


def verify_chain(
    rows: Sequence[AuditRow],
    *,
    head: tuple[int, str] | None,
    key: bytes | None = None,
    expect_head: AuditHead | None = None,
) -> AuditVerification:
    """Check every link, column and (with `key`) MAC; then the store's head and a checkpoint.

    Rows come in stored seq order; `head` is the (count, last hash) the store recorded with the
    last append. The first problem found is reported.
    """
    mac_count = sum(1 for row in rows if row.mac is not None)
    first_mac = next((i for i, row in enumerate(rows) if row.mac is not None), len(rows))
    counts = {
        "count": len(rows),
        "keyed": key is not None,
        "mac_count": mac_count,
        "unkeyed_prefix": first_mac,
    }
    found = _first_problem(rows, key=key) or _head_problem(rows, head, expect_head)
    if found is not None:
        seq, problem, detail = found
        return AuditVerification(
            ok=False, first_bad_seq=seq, problem=problem, detail=detail, **counts
        )
    return AuditVerification(ok=True, **counts)


def _first_problem(rows: Sequence[AuditRow], *, key: bytes | None) -> Finding | None:
    hashes_at = {row.hash: index for index, row in enumerate(rows)}
    prev_hash, expected_seq, keyed_since = GENESIS_HASH, 1, None
    for index, row in enumerate(rows):
        found = _row_problem(
            row, index=index, prev_hash=prev_hash, expected_seq=expected_seq, hashes_at=hashes_at
        )
        if found is None and key is not None:
            found = _mac_problem(row, key=key, keyed_since=keyed_since)
        if found is not None:
            return found
        if row.mac is not None and keyed_since is None:
            keyed_since = row.seq
        prev_hash, expected_seq = row.hash, row.seq + 1
    if key is not None and rows and rows[-1].mac is None:
        last = rows[-1].seq
        return last, "unkeyed", f"the newest record, {last}, carries no MAC" + _UNKEYED_WHY
    return None


_UNKEYED_WHY = ": it was written without PUSHCTL_AUDIT_KEY, or its MAC was stripped after a rewrite"


def _mac_problem(row: AuditRow, *, key: bytes, keyed_since: int | None) -> Finding | None:
    if row.mac is None:
        if keyed_since is None:
            return None  # written before any key was in use: the hash chain is all there is
        return (
            row.seq,
            "unkeyed",
            (f"record {row.seq} carries no MAC although record {keyed_since} does" + _UNKEYED_WHY),
        )
    if mac_matches(key, row):
        return None
    if keyed_since is None:
        detail = (
            f"record {row.seq}'s MAC does not match: the record was forged, "
            "or PUSHCTL_AUDIT_KEY is not the key the log was written with"
        )
    else:
        detail = f"record {row.seq}'s MAC does not match: it was rewritten without the key"
    return row.seq, "forged", detail


def _head_problem(
    rows: Sequence[AuditRow], head: tuple[int, str] | None, expect_head: AuditHead | None
) -> Finding | None:
    count = len(rows)
    last_hash = rows[-1].hash if rows else GENESIS_HASH
    if head is not None and (head[0] != count or head[1] != last_hash):
        return count + 1, "removed", f"the log ends at record {count} but {head[0]} were written"
    if expect_head is None or expect_head.seq == 0:
        return None
    if expect_head.seq > count:
        return (
            count + 1,
            "truncated",
            (
                f"the log ends at record {count}, the checkpoint names record {expect_head.seq}: "
                "records were cut off its tail"
            ),
        )
    if rows[expect_head.seq - 1].hash != expect_head.hash:
        return (
            expect_head.seq,
            "changed",
            (
                f"record {expect_head.seq} is not the one the checkpoint names: "
                "the log was rewritten up to it"
            ),
        )
    return None


def _row_problem(
    row: AuditRow, *, index: int, prev_hash: str, expected_seq: int, hashes_at: Mapping[str, int]
) -> Finding | None:
    """(first bad seq, problem, detail) when `row` does not follow on from the rows before it."""
    fields = _body_fields(row.body)
    body_seq = fields.get("seq")
    if not isinstance(body_seq, int) or record_hash(row.prev_hash, row.body) != row.hash:
        return row.seq, "changed", f"record {row.seq} does not match its hash"
    if row.address != _body_address(fields):
        return (
            row.seq,
            "changed",
            (
                f"record {row.seq}'s address column says {row.address!r} "
                f"but the record says {_body_address(fields)!r}"
            ),
        )
    if row.prev_hash == prev_hash and row.seq == body_seq == expected_seq:
        return None
    if hashes_at.get(row.prev_hash, -1) > index or body_seq < expected_seq:
        return row.seq, "reordered", f"record {body_seq} is stored out of order, as {row.seq}"
    if body_seq > expected_seq:
        return expected_seq, "removed", f"record {expected_seq} is missing (next: {body_seq})"
    if row.seq != body_seq:
        return row.seq, "changed", f"record {body_seq} was renumbered to {row.seq}"
    # Numbering is whole but the link is broken: the previous record was rewritten, hash and all.
    seq = row.seq if index == 0 else expected_seq - 1
    return seq, "changed", f"record {seq} was rewritten: record {row.seq} no longer links to it"


def _body_fields(body: str) -> dict[str, Any]:
    try:
        fields = json.loads(body)
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


def _body_address(fields: Mapping[str, Any]) -> str | None:
    what = fields.get("what")
    address = what.get("address") if isinstance(what, dict) else None
    return address if isinstance(address, str) else None
