"""Seeded tampering with the audit table by someone who can write the database but lacks the key.

Each strategy turns the rows of an intact log into tampered rows, the way an attacker with
write access would: editing a column, deleting, inserting, reordering, cutting off the tail,
or rewriting a record and recomputing every hash after it (and the store's head record), so
that the plain hash chain is consistent again. Only the audit key (MACs) and a checkpoint head
kept outside the store can tell.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.state.audit import GENESIS_HASH, AuditRow, canonical_json, record_hash

Rows = list[AuditRow]


@dataclass(frozen=True)
class Tampered:
    rows: Rows
    #: Whether the store's own head record (count, last hash) is rewritten to match.
    fix_meta: bool


def _edit(body: str, rng: random.Random) -> str:
    fields = json.loads(body)
    choice = rng.randrange(4)
    if choice == 0:
        fields["who"]["user"] = f"mallory-{rng.randrange(10**6)}"
    elif choice == 1:
        fields["what"]["push_id"] = str(rng.randrange(10**9))
    elif choice == 2:
        fields["what"]["request"] = {"title": f"forged {rng.randrange(10**6)}"}
    else:
        fields["run_id"] = f"run-{rng.randrange(10**6)}"
    return canonical_json(fields)


def rebuild(rows: Rows, start: int) -> Rows:
    """Renumber and rehash rows[start:]: the plain chain is whole again (MACs kept as they are)."""
    out = list(rows[:start])
    for row in rows[start:]:
        seq = len(out) + 1
        fields = json.loads(row.body)
        fields["seq"] = seq
        body = canonical_json(fields)
        prev = out[-1].hash if out else GENESIS_HASH
        out.append(
            row.model_copy(
                update={
                    "seq": seq,
                    "prev_hash": prev,
                    "hash": record_hash(prev, body),
                    "body": body,
                    "address": fields["what"].get("address"),
                }
            )
        )
    return out


def edit_body(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows))
    out = list(rows)
    out[i] = out[i].model_copy(update={"body": _edit(out[i].body, rng)})
    return Tampered(out, fix_meta=False)


def edit_address_column(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows))
    out = list(rows)
    out[i] = out[i].model_copy(update={"address": f"other/task-{rng.randrange(10**6)}"})
    return Tampered(out, fix_meta=False)


def edit_other_column(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows))
    column = rng.choice(["seq", "prev_hash", "hash", "mac"])
    value: Any = rows[i].seq + 1000 if column == "seq" else f"{rng.getrandbits(256):064x}"
    out = list(rows)
    out[i] = out[i].model_copy(update={column: value})
    return Tampered(out, fix_meta=False)


def delete_one(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows))
    return Tampered(rows[:i] + rows[i + 1 :], fix_meta=rng.random() < 0.5)


def delete_and_rehash(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows))
    return Tampered(rebuild(rows[:i] + rows[i + 1 :], i), fix_meta=True)


def truncate_tail(rows: Rows, rng: random.Random) -> Tampered:
    """Cut off the newest records and rewrite the store's head: only a checkpoint can tell."""
    keep = rng.randrange(len(rows))
    return Tampered(rows[:keep], fix_meta=True)


def insert_forged(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows) + 1)
    donor = rows[rng.randrange(len(rows))]
    forged = donor.model_copy(update={"body": _edit(donor.body, rng)})
    return Tampered(rebuild([*rows[:i], forged, *rows[i:]], i), fix_meta=True)


def swap_two(rows: Rows, rng: random.Random) -> Tampered:
    i, j = sorted(rng.sample(range(len(rows)), 2))
    out = list(rows)
    out[i], out[j] = out[j], out[i]
    if rng.random() < 0.5:
        return Tampered(rebuild(out, i), fix_meta=True)
    return Tampered([row.model_copy(update={"seq": n + 1}) for n, row in enumerate(out)], False)


def rewrite_and_rehash(rows: Rows, rng: random.Random) -> Tampered:
    i = rng.randrange(len(rows))
    out = list(rows)
    out[i] = out[i].model_copy(update={"body": _edit(out[i].body, rng)})
    return Tampered(rebuild(out, i), fix_meta=True)


def rewrite_rehash_strip_macs(rows: Rows, rng: random.Random) -> Tampered:
    """Rewrite, rehash, and drop the MACs that no longer match (from the record on, or all)."""
    i = rng.randrange(len(rows))
    out = list(rows)
    out[i] = out[i].model_copy(update={"body": _edit(out[i].body, rng)})
    rebuilt = rebuild(out, i)
    first = 0 if rng.random() < 0.5 else i
    return Tampered(
        [*rebuilt[:first], *(r.model_copy(update={"mac": None}) for r in rebuilt[first:])], True
    )


def pretend_legacy(rows: Rows, rng: random.Random) -> Tampered:
    """Rewrite one record and turn the whole log into version-1 records with no MACs."""
    i = rng.randrange(len(rows))
    out = list(rows)
    out[i] = out[i].model_copy(update={"body": _edit(out[i].body, rng)})
    legacy = []
    for row in out:
        fields = json.loads(row.body)
        fields.pop("v", None)
        legacy.append(row.model_copy(update={"body": canonical_json(fields), "mac": None}))
    return Tampered(rebuild(legacy, 0), fix_meta=True)


def replay_mac(rows: Rows, rng: random.Random) -> Tampered:
    i, j = rng.sample(range(len(rows)), 2)
    out = list(rows)
    out[i] = out[i].model_copy(update={"body": _edit(out[i].body, rng), "mac": rows[j].mac})
    return Tampered(rebuild(out, i), fix_meta=True)


def truncate_and_regrow(rows: Rows, rng: random.Random) -> Tampered:
    """Cut off the tail and append as many forged records, rehashed, with the old MACs."""
    keep = rng.randrange(len(rows))
    forged = [r.model_copy(update={"body": _edit(r.body, rng)}) for r in rows[keep:]]
    return Tampered(rebuild([*rows[:keep], *forged], keep), fix_meta=True)


Strategy = Callable[[Rows, random.Random], Tampered]

STRATEGIES: dict[str, Strategy] = {
    "edit_body": edit_body,
    "edit_address_column": edit_address_column,
    "edit_other_column": edit_other_column,
    "delete_one": delete_one,
    "delete_and_rehash": delete_and_rehash,
    "truncate_tail": truncate_tail,
    "insert_forged": insert_forged,
    "swap_two": swap_two,
    "rewrite_and_rehash": rewrite_and_rehash,
    "rewrite_rehash_strip_macs": rewrite_rehash_strip_macs,
    "pretend_legacy": pretend_legacy,
    "replay_mac": replay_mac,
    "truncate_and_regrow": truncate_and_regrow,
}


def write_rows(
    run: Callable[[str, Sequence[Any]], object], tampered: Tampered, *, head: tuple[int, str]
) -> None:
    """Replace the audit table with `rows`; the store's head record is `head` unless the
    attacker rewrites it to match the rows."""
    run("DELETE FROM pushctl_audit", ())
    for row in tampered.rows:
        run(
            "INSERT INTO pushctl_audit (seq, prev_hash, hash, address, body, mac) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (row.seq, row.prev_hash, row.hash, row.address, row.body, row.mac),
        )
    if tampered.fix_meta:
        last = tampered.rows[-1].hash if tampered.rows else GENESIS_HASH
        head = (len(tampered.rows), last)
    run("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_count'", (str(head[0]),))
    run("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (head[1],))
