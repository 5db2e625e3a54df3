"""`pushctl state rm | resolve | migrate`: change what pushctl remembers, with a record.

Each change takes the app's lock without waiting (a running apply owns the app) and writes an
audit record. None of them calls TPNS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from reconciler.cli.state_choice import state_option
from reconciler.cli.state_cmd import no_binding, open_state, provenance, record_state_change
from reconciler.engine.audit_trail import AuditTrail
from reconciler.errors import AuditError, StateError
from reconciler.records import Intent, TaskBinding
from reconciler.state import LockHolder, StateStore, What, open_store

#: An open intent or task call.
Open = TypeVar("Open")


@contextmanager
def app_locked(store: StateStore, app: str) -> Iterator[tuple[str, LockHolder]]:
    origin, run_id = provenance(), str(uuid.uuid4())
    holder = LockHolder.new(
        user=origin.who.user,
        host=origin.where.host,
        run_id=run_id,
        commit=origin.why.commit,
        now=datetime.now(UTC),
    )
    # No wait: a running apply owns the app; changing state under it would race its bindings.
    with store.acquire([app], holder, timeout=0):
        yield run_id, holder


def record(store: StateStore, what: What, run_id: str) -> None:
    record_state_change(store, what, origin=provenance(), run_id=run_id)


@click.command("rm")
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--purge",
    is_flag=True,
    help="Also drop the tombstone: pushctl then knows the push only by its content, and only "
    "while TPNS keeps it (one month).",
)
@state_option
@click.pass_context
def state_rm(ctx: click.Context, address: str, yes: bool, purge: bool) -> None:
    """Forget a task; the live TPNS task is left as it is.

    A tombstone keeps its push id, so while a manifest declares ADDRESS the next plan adopts
    that push again instead of sending it twice.
    """
    with open_state(ctx) as store:
        snapshot = store.snapshot()
        known = snapshot.bindings.get(address) or (
            snapshot.tombstones.get(address) if purge else None
        )
        if known is None:
            raise no_binding(address)
        if not yes:
            click.confirm(
                f"Forget {address} (push id {known.push_id})? The live task is not changed.",
                abort=True,
            )
        with app_locked(store, known.app) as (run_id, _):
            store.forget_binding(address)
            if purge:
                store.purge_tombstone(address)
            action = "rm --purge" if purge else "rm"
            record(store, What(action=action, address=address, push_id=known.push_id), run_id)
    click.echo(f"Removed {address} (push id {known.push_id}) from state.")
    click.echo(next_plan_after_rm(known, purged=purge))


def next_plan_after_rm(binding: TaskBinding, *, purged: bool) -> str:
    address, push_id = binding.address, binding.push_id
    if not purged:
        return (
            f"Next plan: while a manifest declares {address}, it adopts push {push_id} again "
            "(no call); a manifest that no longer declares it leaves it forgotten. "
            f"`pushctl state rm --purge {address}` drops the tombstone too."
        )
    return (
        f"Next plan: a manifest that declares {address} is matched by content against the live "
        f"tasks: push {push_id} is adopted while TPNS still keeps it (one month); after that, "
        "the push would be sent again."
    )


@click.command("resolve")
@click.argument("address")
@click.option("--push-id", help="The push the interrupted create made: bind ADDRESS to it.")
@click.option("--not-sent", is_flag=True, help="The interrupted create made no push.")
@click.option("--done", is_flag=True, help="The interrupted stop, recall or cancel took effect.")
@click.option("--not-done", is_flag=True, help="The interrupted stop, recall or cancel did not.")
@state_option
@click.pass_context
def state_resolve(
    ctx: click.Context,
    address: str,
    push_id: str | None,
    not_sent: bool,
    done: bool,
    not_done: bool,
) -> None:
    """Settle an interrupted call that apply cannot settle by reading TPNS back.

    Use it when you know the answer (from the TPNS console, say): an open intent older than
    TPNS's one-month record, two live pushes that look the same (--push-id, --not-sent), or
    a stop, recall or cancel whose push TPNS no longer shows (--done, --not-done).
    """
    if [push_id is not None, not_sent, done, not_done].count(True) != 1:
        raise click.UsageError("give exactly one of --push-id ID, --not-sent, --done, --not-done")
    if done or not_done:
        resolve_calls(ctx, address, done=done)
        return
    with open_state(ctx) as store:
        intents = _required(
            [i for i in store.open_intents() if i.address == address],
            f"no open intent for {address}",
            hint="`pushctl state list` shows how many intents are open",
        )
        with app_locked(store, intents[0].app) as (run_id, _):
            for intent in intents:
                settle(store, intent, push_id)
            outcome = f"created push {push_id}" if push_id else "not sent"
            record(store, What(action="resolve", address=address, push_id=push_id), run_id)
    click.echo(f"Resolved {len(intents)} open intent(s) of {address}: {outcome}.")


def resolve_calls(ctx: click.Context, address: str, *, done: bool) -> None:
    """Close the open stops, recalls and cancels of ADDRESS, each with its outcome record."""
    verdict = "done (by hand)" if done else "not done (by hand)"
    with open_state(ctx) as store:
        calls = _required(
            [c for c in store.open_calls() if c.address == address],
            f"no open stop, recall or cancel for {address}",
            hint="`pushctl plan` warns call.open for each one left open",
        )
        with app_locked(store, calls[0].app) as (run_id, _):
            origin = provenance()
            trail = AuditTrail(
                store.append_audit,
                run_id=run_id,
                provenance=origin,
                plan_digest=origin.why.plan_digest,
                now=lambda: datetime.now(UTC),
            )
            for call in calls:
                record = trail.call_outcome(
                    call, ret_code=0, err_msg=f"resolved open call: {verdict}", resolved_by="hand"
                )
                store.close_call(call.call_id, outcome=verdict, record=record)
    click.echo(f"Resolved {len(calls)} open call(s) of {address}: {verdict}.")


def _required(found: list[Open], message: str, *, hint: str) -> list[Open]:
    """The open records of an address; none is an error naming where to look."""
    if not found:
        raise StateError(message, hint=hint)
    return found


def settle(store: StateStore, intent: Intent, push_id: str | None) -> None:
    if push_id is None:
        store.close_intent(intent.intent_id, push_id=None, outcome="not sent (by hand)")
        return
    binding = TaskBinding(
        address=intent.address,
        app=intent.app,
        push_id=push_id,
        created_by_pushctl=True,
        body=intent.body,
    )
    store.put_binding(binding)
    store.close_intent(intent.intent_id, push_id=push_id, outcome="created (by hand)")


@click.command("migrate")
@click.option("--to", "target_url", required=True, metavar="URL", help="The new, empty store.")
@state_option
@click.pass_context
def state_migrate(ctx: click.Context, target_url: str) -> None:
    """Copy this state (bindings, tombstones, intents, task calls, call log, audit chain) to
    another store.

    The source comes from --state, PUSHCTL_STATE or pushctl.yaml; it is left as it was. The
    copy's audit chain is verified before this command says it is done.
    """
    with open_state(ctx) as source:
        if source.list_locks():
            raise StateError(
                f"state at {source.location} has locks held",
                hint="wait for the running apply (`pushctl state locks`), then migrate",
            )
        rows = source.export_rows()
        with open_store(target_url, base_dir=Path.cwd()) as target:
            target.import_rows(rows)
            verdict = target.verify_audit()
            copied = target.snapshot()
            where = target.location
    if not verdict.ok:
        raise AuditError(
            f"the audit chain copied to {where} does not verify at record "
            f"{verdict.first_bad_seq}: {verdict.problem}",
            hint="the source log may be damaged: run `pushctl audit verify` on it",
        )
    click.echo(
        f"Migrated state {copied.lineage} (serial {copied.serial}) to {where}: "
        f"{len(copied.bindings)} task(s), {len(copied.tombstones)} tombstone(s), "
        f"{len(rows.get('pushctl_intents', []))} intent(s), "
        f"{len(rows.get('pushctl_task_calls', []))} task call(s), {verdict.count} audit record(s), "
        "chain intact."
    )
    click.echo(f"Point pushctl at it: export PUSHCTL_STATE='{target_url}' (or --state).")
