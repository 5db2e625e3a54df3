"""`pushctl apply`: make exactly the calls of a plan, then check that nothing is left."""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from reconciler.cli.context import Workspace, global_options, open_workspace
from reconciler.cli.event_loop import run_to_end
from reconciler.cli.integrity import audit_key, check_inputs, check_plan_file, compared_paths
from reconciler.cli.options import accept_duplicate_risk_option, manifest_option
from reconciler.cli.plan_cmd import (
    emit_plan,
    load_and_validate,
    load_valid_manifests,
    plan_for,
    read_plan_file,
)
from reconciler.cli.progress import ApplyProgress, wants_bar
from reconciler.cli.provenance import local_provenance
from reconciler.cli.state_choice import refuse_local_state_in_ci, state_option
from reconciler.domain.manifest.models import DeclaredTask
from reconciler.domain.plan import Action, Plan
from reconciler.engine.apply import ApplyReport, ChangeOutcome
from reconciler.engine.apply_session import ApplyRun, run_apply
from reconciler.errors import ApplyFailed, PushctlError, UsageError
from reconciler.state import AuditHead
from reconciler.state.lock import process_identity
from reconciler.state.store import LockHolder

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    match = DURATION.match(text.strip())
    if match is None:
        raise UsageError(f"--lock-timeout {text!r}: write a duration such as 30s, 2m or 0")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def new_run(
    workspace: Workspace,
    lock_timeout: float,
    *,
    on_outcome: Callable[[ChangeOutcome], None] | None = None,
) -> ApplyRun:
    run_id = uuid.uuid4().hex[:12]
    provenance = local_provenance(workspace.env)
    commit = provenance.why.commit
    holder = LockHolder(
        lock_id=run_id,
        user=provenance.who.ci_actor or provenance.who.user,
        host=provenance.where.host,
        run_id=run_id,
        commit=commit or "",
        pid=os.getpid(),
        acquired_at=datetime.now(UTC),
        process=process_identity(os.getpid()),
    )
    secrets = [
        workspace.env[app.secret_key_env]
        for app in workspace.config.apps.values()
        if workspace.env.get(app.secret_key_env)
    ]
    return ApplyRun(
        run_id=run_id,
        holder=holder,
        provenance=provenance,
        lock_timeout=lock_timeout,
        now=workspace.now,
        utc_offset=workspace.config.tpns_utc_offset,
        secrets=secrets,
        read_back_grace={
            key: float(app.read_back_grace_seconds) for key, app in workspace.config.apps.items()
        },
        on_outcome=on_outcome,
    )


async def apply_and_close(
    workspace: Workspace, plan: Plan, run: ApplyRun, *, extra_apps: Sequence[str] = ()
) -> tuple[ApplyReport, AuditHead]:
    """The report, and the audit log's head once the run's records are written."""
    store = workspace.open_state()
    store.use_audit_key(audit_key(workspace.env))
    apps = sorted({c.app for c in plan.changes} | set(extra_apps))
    clients = workspace.clients(apps)
    try:
        result = await run_apply(plan, store=store, clients=clients, run=run)
        return result, store.audit_head()
    finally:
        for client in clients.values():
            await client.aclose()
        store.close()


def confirm(plan: Plan, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "apply needs confirmation and stdin is not a terminal; "
            "review the plan, then pass --auto-approve (or apply a saved plan file)"
        )
    answer = click.prompt(
        "\nDo you want to make these TPNS calls? Only 'yes' will be accepted", default=""
    )
    if answer != "yes":
        raise PushctlError("apply cancelled; no TPNS call was made")


def report(result: ApplyReport) -> None:
    for line in (*result.resolved_intents, *result.resolved_calls):
        click.echo(f"Resolved: {line}")
    changed = len(result.succeeded)
    failed = result.failed
    if failed:
        click.echo(f"\nApply incomplete: {changed} succeeded, {len(failed)} failed.", err=True)
        for outcome in failed:
            click.echo(f"  {outcome.address} ({outcome.action.value}): {outcome.detail}", err=True)
        raise ApplyFailed(
            f"{len(failed)} change(s) failed; what succeeded is recorded",
            hint="run `pushctl plan` to see what is left, then apply again",
        )
    click.echo(f"\nApply complete: {changed} change(s) made.")


def report_head(head: AuditHead, out: Path | None) -> None:
    """Print the audit log's head: a checkpoint CI keeps for `audit verify --expect-head`."""
    click.echo(f"Audit head: {head}")
    if out is not None:
        with out.open("a", encoding="utf-8") as sink:
            sink.write(f"audit_head={head}\n")


def changed_addresses(plan: Plan) -> frozenset[str]:
    return frozenset(a for c in plan.changes for a in (c.address, c.new_address) if a)


def check_converged(
    workspace: Workspace, tasks: list[DeclaredTask], changed: frozenset[str] | None
) -> None:
    """A fresh plan of the tasks this apply changed (and their override partners) is empty.

    Only those: the plan just applied read every other task and found it matching, and reading
    them all again would double the reads of every apply while testing nothing it did. Drift
    elsewhere is what `pushctl plan` reports. `changed` None: every task.
    """
    if changed is not None and not changed:
        return
    targets = changed or frozenset()
    after = run_to_end(plan_for(workspace, tasks, [], targets=targets, refresh="auto"))
    if after.is_empty:
        click.echo("Converged: a fresh plan is empty.")
        return
    left = ", ".join(f"{c.address} ({c.action.value})" for c in after.changes)
    raise ApplyFailed(
        f"not converged: a fresh plan still has changes: {left}",
        hint="run `pushctl plan` to see why",
    )


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@manifest_option
@click.option("--auto-approve", is_flag=True, help="Do not ask before making the calls.")
@click.option(
    "--lock-timeout",
    default="30s",
    show_default=True,
    help="How long to wait for another run's lock (e.g. 0, 30s, 2m). Exit 3 if not acquired.",
)
@click.option(
    "--audit-head-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append `audit_head=SEQ:HASH` to this file (e.g. $GITHUB_OUTPUT), for "
    "`audit verify --expect-head`.",
)
@accept_duplicate_risk_option
@click.option(
    "--allow-local-state",
    is_flag=True,
    help="Apply with a local SQLite state even when CI is set (the runner must keep its files).",
)
@state_option
@click.pass_context
def apply(
    ctx: click.Context,
    planfile: Path | None,
    files: tuple[str, ...],
    auto_approve: bool,
    lock_timeout: str,
    audit_head_out: Path | None,
    accept_duplicate_risk: bool,
    allow_local_state: bool,
) -> None:
    """Apply a saved plan exactly (PLANFILE), or plan, confirm and apply (-f PATH).

    PLANFILE -f PATH applies the plan only if the manifests and config under PATH are the ones
    it was made from (exit 4 naming the files that changed).
    """
    timeout = parse_duration(lock_timeout)
    color = global_options(ctx).color
    if planfile is not None:
        plan = read_plan_file(planfile)
        # Before the config, the state or any client is opened: an altered plan gets nothing.
        check_plan_file(plan, planfile, os.environ)
        paths = compared_paths(files)
        workspace = open_workspace(ctx, paths or [planfile])
        refuse_local_state_in_ci(workspace.state, workspace.env, allow=allow_local_state)
        tasks: list[DeclaredTask] = []
        if files:
            check_inputs(plan, planfile, paths=paths, config_path=workspace.config_path)
            # The very manifests planned: the convergence check after the apply plans them.
            tasks, _ = load_and_validate(workspace, paths)
        if not plan.applyable:
            raise PushctlError(
                f"{planfile} has errors and cannot be applied",
                hint=f"`pushctl show {planfile}` lists them; fix the manifests and plan again",
            )
    else:
        workspace, tasks, diagnostics = load_valid_manifests(ctx, files, verb="applied")
        refuse_local_state_in_ci(workspace.state, workspace.env, allow=allow_local_state)
        plan = run_to_end(
            plan_for(
                workspace,
                tasks,
                diagnostics,
                targets=frozenset(),
                refresh="auto",
                accept_duplicate_risk=accept_duplicate_risk,
            )
        )
        emit_plan(plan, "text", color=color)
        if not plan.applyable:
            raise PushctlError("the plan has errors; fix them and run apply again")
        if not plan.is_empty:
            confirm(plan, auto_approve)
    intents = open_intent_apps(workspace)
    if plan.is_empty and not intents:
        if planfile is not None:
            click.echo("No changes. Live push tasks match the manifests.")
        return
    total = sum(1 for c in plan.changes if c.action is not Action.NO_OP)
    with ApplyProgress(total, bar=wants_bar(sys.stdout, os.environ), color=color) as progress:
        run = new_run(workspace, timeout, on_outcome=progress)
        result, head = run_to_end(apply_and_close(workspace, plan, run, extra_apps=intents))
    report_head(head, audit_head_out)
    report(result)
    if tasks:
        # Creates of an interrupted run were resolved too: which tasks they bound only the
        # store knows, so every task is planned again.
        check_converged(workspace, tasks, None if intents else changed_addresses(plan))


def open_intent_apps(workspace: Workspace) -> list[str]:
    """Apps with a call whose outcome is unknown: apply resolves them even with no changes."""
    store = workspace.open_state()
    try:
        left_open = {i.app for i in store.open_intents()} | {c.app for c in store.open_calls()}
        return sorted(left_open & set(workspace.config.apps))
    finally:
        store.close()
