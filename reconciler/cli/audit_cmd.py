"""`pushctl audit log` and `pushctl audit verify`: read and check the audit log.

With PUSHCTL_AUDIT_KEY set, verify checks every record's MAC; without it, it says plainly that
it proves internal consistency only. `--expect-head` compares the log with a checkpoint that
apply printed, which catches a tail cut off together with the store's own head record.
"""

from __future__ import annotations

import json
import os

import click

from reconciler.cli.audit_report_cmd import audit_report
from reconciler.cli.integrity import AUDIT_KEY_ENV, audit_key
from reconciler.cli.state_choice import state_option
from reconciler.cli.state_cmd import open_state
from reconciler.errors import AuditError, UsageError
from reconciler.state import AuditHead, AuditVerification, StoredAuditRecord


@click.group()
@state_option
def audit() -> None:
    """Read and verify the tamper-evident audit log."""


@audit.command("log")
@click.option("--address", help="Only the records of this task (app/name).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints one JSON object per line.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.pass_context
def audit_log(ctx: click.Context, address: str | None, fmt: str, as_json: bool) -> None:
    """Print the audit history, oldest first."""
    with open_state(ctx) as store:
        records = store.audit_records(address=address)
    for record in records:
        click.echo(audit_json(record) if as_json or fmt == "json" else audit_line(record))


def audit_json(record: StoredAuditRecord) -> str:
    fields = {
        "seq": record.seq,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "version": record.version,
        "mac": record.mac,
    }
    return json.dumps({**fields, **record.entry.model_dump(mode="json")}, ensure_ascii=False)


def audit_line(record: StoredAuditRecord) -> str:
    entry = record.entry
    when = entry.when.isoformat().replace("+00:00", "Z")
    who = entry.who.user + (f" (ci: {entry.who.ci_actor})" if entry.who.ci_actor else "")
    parts = [f"#{record.seq}", when, entry.kind, entry.what.action, entry.what.address or "-"]
    if entry.what.push_id:
        parts.append(f"push {entry.what.push_id}")
    parts.append(f"by {who}")
    if entry.result is not None:
        outcome = f"ret_code {entry.result.ret_code}"
        parts.append(outcome + (f": {entry.result.err_msg}" if entry.result.err_msg else ""))
    return "  ".join(parts)


@audit.command("verify")
@click.option(
    "--expect-head",
    metavar="SEQ:HASH",
    help="A checkpoint apply printed (`Audit head: SEQ:HASH`): the log must still hold it.",
)
@click.pass_context
def audit_verify(ctx: click.Context, expect_head: str | None) -> None:
    """Check the hash chain, and the MACs with PUSHCTL_AUDIT_KEY; exit 1 at the first bad one."""
    checkpoint = parse_head(expect_head) if expect_head else None
    key = audit_key(os.environ)
    with open_state(ctx) as store:
        store.use_audit_key(key)
        verdict = store.verify_audit(expect_head=checkpoint)
        location = store.location
    if not verdict.ok:
        raise AuditError(
            f"audit log in {location} is broken at record {verdict.first_bad_seq}: "
            f"{verdict.problem} ({verdict.detail})",
            hint="the log was altered outside pushctl; compare with a backup of the state",
        )
    click.echo(f"Audit log verified: {verdict.count} records, chain intact.")
    for line in verdict_notes(verdict, checkpoint):
        click.echo(line)


def parse_head(text: str) -> AuditHead:
    try:
        return AuditHead.parse(text)
    except ValueError as exc:
        raise UsageError(f"--expect-head: {exc}") from exc


def verdict_notes(verdict: AuditVerification, checkpoint: AuditHead | None) -> list[str]:
    """What the verdict proves, and what it does not."""
    notes: list[str] = []
    if verdict.keyed:
        notes.append(f"MACs checked with {AUDIT_KEY_ENV}: {verdict.mac_count} records keyed.")
        if verdict.unkeyed_prefix:
            notes.append(
                f"Records 1-{verdict.unkeyed_prefix} predate the key: for them only the hash "
                "chain, up to the first keyed record, is proven."
            )
    else:
        notes.append(
            f"Internal consistency only: without {AUDIT_KEY_ENV} this proves that the records "
            "link up, not that pushctl wrote them; anyone who can write the state can rewrite "
            "a record and recompute every hash after it."
        )
        if verdict.mac_count:
            notes.append(f"{verdict.mac_count} records carry a MAC that was not checked.")
    if checkpoint is None:
        notes.append(
            "Tail not checked: pass --expect-head SEQ:HASH (printed by apply) to detect "
            "records cut off the end."
        )
    else:
        notes.append(f"Checkpoint {checkpoint} found: nothing up to it was cut off or rewritten.")
    return notes


audit.add_command(audit_report)
