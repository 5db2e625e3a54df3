"""`pushctl state`, `pushctl force-unlock` and `pushctl audit`: look into and repair the state.

The store comes from pushctl.yaml's `state:` key; the hidden `--state URL` option overrides it
(tests, and inspecting another store without a config file).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import click

from reconciler.cli.context import open_state_store
from reconciler.cli.provenance import local_provenance
from reconciler.errors import AuditError, StateError
from reconciler.records import TaskBinding
from reconciler.state import (
    AuditEntry,
    LockHolder,
    Provenance,
    StateStore,
    StoredAuditRecord,
    What,
    open_store,
)

STATE_URL_KEY = "pushctl.state_url"

state_url_option = click.option(
    "--state",
    "state_url",
    hidden=True,
    help="State URL to use instead of pushctl.yaml's `state:` (sqlite:PATH or postgresql://...).",
)


def open_state(ctx: click.Context) -> StateStore:
    """The --state store if given, else the one pushctl.yaml names (base dir: its folder)."""
    url = ctx.meta.get(STATE_URL_KEY)
    if url:
        return open_store(str(url), base_dir=Path.cwd())
    return open_state_store(ctx)


def provenance() -> Provenance:
    return local_provenance(os.environ)


def record_state_change(store: StateStore, what: What, *, origin: Provenance, run_id: str) -> None:
    """Write the audit record of a change made by hand (`state rm`, `force-unlock`)."""
    store.append_audit(
        AuditEntry(
            kind="state",
            run_id=run_id,
            who=origin.who,
            where=origin.where,
            why=origin.why,
            what=what,
            when=datetime.now(UTC),
        )
    )


# -- pushctl state --------------------------------------------------------------------------


@click.group()
@state_url_option
@click.pass_context
def state(ctx: click.Context, state_url: str | None) -> None:
    """Inspect or edit what pushctl remembers about push tasks."""
    ctx.meta[STATE_URL_KEY] = state_url


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object, for scripts.",
)


@state.command("list")
@format_option
@click.pass_context
def state_list(ctx: click.Context, fmt: str) -> None:
    """List the tasks pushctl tracks, with push id and status."""
    with open_state(ctx) as store:
        snapshot = store.snapshot()
    if fmt == "json":
        document = {
            "lineage": snapshot.lineage,
            "serial": snapshot.serial,
            "tasks": [b.model_dump(mode="json") for b in snapshot.bindings.values()],
            "open_intents": len(snapshot.open_intents),
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    header = f"State {snapshot.lineage}, serial {snapshot.serial}"
    if not snapshot.bindings:
        click.echo(f"{header}: no tasks.")
    else:
        click.echo(f"{header}:")
        for line in binding_table(snapshot.bindings.values()):
            click.echo(line)
    if snapshot.open_intents:
        click.echo(
            f"{len(snapshot.open_intents)} open intent(s): an earlier apply was interrupted; "
            "the next apply resolves them."
        )


def binding_table(bindings: Iterable[TaskBinding]) -> list[str]:
    rows = [("ADDRESS", "PUSH ID", "STATUS", "ORIGIN")] + [
        (
            b.address,
            b.push_id,
            b.last_status.value if b.last_status else "-",
            "created" if b.created_by_pushctl else "adopted",
        )
        for b in bindings
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + f"  {row[3]}"
        for row in rows
    ]


@state.command("show")
@click.argument("address")
@format_option
@click.pass_context
def state_show(ctx: click.Context, address: str, fmt: str) -> None:
    """Show what state holds for one task (ADDRESS: app/name)."""
    with open_state(ctx) as store:
        binding = store.get_binding(address)
    if binding is None:
        raise no_binding(address)
    if fmt == "json":
        click.echo(json.dumps(binding.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    for key, value in binding.model_dump(mode="json").items():
        shown = json.dumps(value, indent=2, ensure_ascii=False) if key == "body" else value
        click.echo(f"{key}: {'-' if value in (None, '') else shown}")


@state.command("rm")
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def state_rm(ctx: click.Context, address: str, yes: bool) -> None:
    """Forget a task; the live TPNS task is left as it is."""
    with open_state(ctx) as store:
        binding = store.get_binding(address)
        if binding is None:
            raise no_binding(address)
        if not yes:
            click.confirm(
                f"Forget {address} (push id {binding.push_id})? The live task is not changed.",
                abort=True,
            )
        origin, run_id = provenance(), str(uuid.uuid4())
        holder = LockHolder.new(
            user=origin.who.user,
            host=origin.where.host,
            run_id=run_id,
            commit=origin.why.commit,
            now=datetime.now(UTC),
        )
        # No wait: a running apply owns the app; removing under it would race its bindings.
        with store.acquire([binding.app], holder, timeout=0):
            store.remove_binding(address)
            what = What(action="rm", address=address, push_id=binding.push_id)
            record_state_change(store, what, origin=origin, run_id=run_id)
    click.echo(f"Removed {address} (push id {binding.push_id}) from state.")


@state.command("locks")
@click.pass_context
def state_locks(ctx: click.Context) -> None:
    """List the app locks held and who holds them."""
    with open_state(ctx) as store:
        locks = store.list_locks()
    if not locks:
        click.echo("No locks held.")
    for lock in locks:
        click.echo(f"{lock.app}: {lock.holder.describe()}")


def no_binding(address: str) -> StateError:
    return StateError(
        f"no task {address} in state", hint="`pushctl state list` shows the addresses in state"
    )


# -- pushctl force-unlock --------------------------------------------------------------------


@click.command("force-unlock")
@click.argument("lock_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@state_url_option
@click.pass_context
def force_unlock(ctx: click.Context, lock_id: str, yes: bool, state_url: str | None) -> None:
    """Release the locks of a run that died.

    LOCK_ID is in the lock error message and in `pushctl state locks`.
    """
    ctx.meta[STATE_URL_KEY] = state_url
    with open_state(ctx) as store:
        apps = [lock.app for lock in store.list_locks() if lock.holder.lock_id == lock_id]
        if not yes and apps:
            click.confirm(
                f"Release lock {lock_id} on {', '.join(apps)}? Do this only if that run is dead.",
                abort=True,
            )
        holder = store.force_unlock(lock_id)
        what = What(action="force-unlock", request={"lock_id": lock_id, "apps": apps})
        record_state_change(store, what, origin=provenance(), run_id=str(uuid.uuid4()))
    click.echo(f"Released lock {lock_id}, held by {holder.describe()}.")


# -- pushctl audit ---------------------------------------------------------------------------


@click.group()
@state_url_option
@click.pass_context
def audit(ctx: click.Context, state_url: str | None) -> None:
    """Read and verify the tamper-evident audit log."""
    ctx.meta[STATE_URL_KEY] = state_url


@audit.command("log")
@click.option("--address", help="Only the records of this task (app/name).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def audit_log(ctx: click.Context, address: str | None, as_json: bool) -> None:
    """Print the audit history, oldest first."""
    with open_state(ctx) as store:
        records = store.audit_records(address=address)
    for record in records:
        click.echo(audit_json(record) if as_json else audit_line(record))


def audit_json(record: StoredAuditRecord) -> str:
    fields = {"seq": record.seq, "prev_hash": record.prev_hash, "hash": record.hash}
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
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the hash chain; exit 1 naming the first bad record."""
    with open_state(ctx) as store:
        verdict = store.verify_audit()
        location = store.location
    if not verdict.ok:
        raise AuditError(
            f"audit log in {location} is broken at record {verdict.first_bad_seq}: "
            f"{verdict.problem} ({verdict.detail})",
            hint="the log was altered outside pushctl; compare with a backup of the state",
        )
    click.echo(f"Audit log verified: {verdict.count} records, chain intact.")
