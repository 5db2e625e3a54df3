"""`pushctl state` and `pushctl force-unlock`: look into and repair the state.

The store comes from pushctl.yaml's `state:` key; the hidden `--state URL` option overrides it
(tests, and inspecting another store without a config file).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import click

from reconciler.cli.context import open_state_store
from reconciler.cli.integrity import audit_key
from reconciler.cli.provenance import local_provenance
from reconciler.cli.state_choice import state_option
from reconciler.errors import StateError
from reconciler.records import TaskBinding
from reconciler.state import (
    AuditEntry,
    Provenance,
    StateStore,
    What,
)


def open_state(ctx: click.Context) -> StateStore:
    """The --state / PUSHCTL_STATE store if given, else the one pushctl.yaml names."""
    store = open_state_store(ctx)
    # Records written by hand (state rm, force-unlock) are MAC'd like apply's.
    store.use_audit_key(audit_key(os.environ))
    return store


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
@state_option
def state() -> None:
    """Inspect or edit what pushctl remembers about push tasks."""


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
            "open_calls": len(snapshot.open_calls),
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
    if snapshot.open_calls:
        click.echo(
            f"{len(snapshot.open_calls)} open stop, recall or cancel call(s): an earlier apply "
            "was interrupted; the next apply reads their tasks and records the outcome."
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
@state_option
@click.pass_context
def force_unlock(ctx: click.Context, lock_id: str, yes: bool) -> None:
    """Release the locks of a run that died.

    LOCK_ID is in the lock error message and in `pushctl state locks`.
    """
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


def _register_edits() -> None:
    # Imported here: state_edit_cmd builds on this module's helpers.
    from reconciler.cli import state_edit_cmd  # noqa: PLC0415

    for command in (
        state_edit_cmd.state_rm,
        state_edit_cmd.state_resolve,
        state_edit_cmd.state_migrate,
    ):
        state.add_command(command)


_register_edits()
