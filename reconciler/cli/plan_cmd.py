"""`pushctl plan`, `show` and `schema`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from reconciler.cli.context import Workspace, global_options, open_workspace
from reconciler.cli.event_loop import run_to_end
from reconciler.cli.integrity import echo_integrity, sealed
from reconciler.cli.options import accept_duplicate_risk_option, manifest_option, manifest_paths
from reconciler.cli.plan_formats import CI_FORMATS, render_ci_format
from reconciler.cli.state_choice import state_option
from reconciler.cli.validate_cmd import check_tasks, has_errors
from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.models import DeclaredTask
from reconciler.domain.manifest.schema import config_json_schema, manifest_json_schema
from reconciler.domain.plan import Diagnostic, Plan, summarize
from reconciler.domain.policy.sending import with_sending_policy
from reconciler.engine.planning import PlanRequest, build_plan
from reconciler.errors import PushctlError, UsageError
from reconciler.render.diagnostics import render_diagnostics_text
from reconciler.render.html import render_plan_html
from reconciler.render.json_out import render_plan_json
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan_text

EXIT_CHANGES = 2


def load_and_validate(
    workspace: Workspace, paths: list[Path]
) -> tuple[list[DeclaredTask], list[Diagnostic]]:
    """Load manifests and check them; raises before any network use."""
    tasks = load_manifests(paths, stdin=sys.stdin)
    return tasks, check_tasks(tasks, workspace.config)


def load_valid_manifests(
    ctx: click.Context, files: tuple[str, ...], *, verb: str
) -> tuple[Workspace, list[DeclaredTask], list[Diagnostic]]:
    """Config, manifests and their warnings; invalid input stops here, before any TPNS call."""
    paths = manifest_paths(files)
    workspace = open_workspace(ctx, paths)
    tasks, diagnostics = load_and_validate(workspace, paths)
    if has_errors(diagnostics):
        click.echo(render_diagnostics_text(diagnostics, task_count=len(tasks)), err=True)
        raise PushctlError(f"manifests are invalid; nothing was read or {verb}")
    return workspace, tasks, diagnostics


async def plan_for(
    workspace: Workspace,
    tasks: list[DeclaredTask],
    diagnostics: list[Diagnostic],
    *,
    targets: frozenset[str],
    refresh: str,
    accept_duplicate_risk: bool = False,
) -> Plan:
    store = workspace.open_state()
    snapshot = store.snapshot()
    apps = {t.task.metadata.app for t in tasks} | {b.app for b in snapshot.bindings.values()}
    clients = workspace.clients(sorted(a for a in apps if a in workspace.config.apps))
    try:
        request = PlanRequest(
            desired=tasks,
            config=workspace.config,
            state=snapshot,
            now=workspace.now(),
            targets=targets,
            refresh="all" if refresh == "all" else "auto",
            extra_diagnostics=tuple(d for d in diagnostics if d.severity == "warning"),
            accept_duplicate_risk=accept_duplicate_risk,
        )
        quotas = {app: client.quota for app, client in clients.items()}
        planned = await build_plan(request, readers=clients, quotas=quotas)
        declared = {t.address: t for t in tasks}
        return with_sending_policy(
            planned,
            workspace.config,
            now=request.now,
            declared=declared,
            bindings=snapshot.bindings,
        )
    finally:
        for client in clients.values():
            await client.aclose()


def emit_plan(plan: Plan, fmt: str, *, color: bool) -> None:
    if fmt in CI_FORMATS:
        click.echo(render_ci_format(plan, fmt), nl=False)
    elif fmt == "json":
        click.echo(render_plan_json(plan), nl=False)
    elif fmt == "markdown":
        click.echo(render_plan_markdown(plan))
    elif fmt == "html":
        click.echo(render_plan_html(plan), nl=False)
    else:
        click.echo(render_plan_text(plan, color=color), nl=False)


#: How plan and show print a plan.
plan_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html", *CI_FORMATS]),
    default="text",
    help="html: a self-contained page with each notification drawn per channel; github: "
    "annotations; gitlab-report: the merge request widget's counts.",
)


@click.command()
@manifest_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes (0 = none, 1 = error).",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDR",
    help="Plan only this task (app/name) and the tasks it overrides; repeatable.",
)
@click.option(
    "--refresh",
    type=click.Choice(["auto", "all"]),
    default="auto",
    show_default=True,
    help="all re-reads settled tasks too.",
)
@plan_format_option
@accept_duplicate_risk_option
@state_option
@click.pass_context
def plan(
    ctx: click.Context,
    files: tuple[str, ...],
    out: Path | None,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    refresh: str,
    fmt: str,
    accept_duplicate_risk: bool,
) -> None:
    """Read live tasks, diff them against the manifests, print the TPNS calls that close the gap."""
    workspace, tasks, diagnostics = load_valid_manifests(ctx, files, verb="planned")
    for target in targets:
        if target not in {t.address for t in tasks}:
            raise UsageError(f"--target {target}: no such task in the manifests (use app/name)")
    planned = run_to_end(
        plan_for(
            workspace,
            tasks,
            diagnostics,
            targets=frozenset(targets),
            refresh=refresh,
            accept_duplicate_risk=accept_duplicate_risk,
        )
    )
    if not planned.summary:
        planned = planned.model_copy(update={"summary": summarize(planned.changes)})
    result = sealed(
        planned, paths=manifest_paths(files), config_path=workspace.config_path, env=workspace.env
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_plan_json(result), encoding="utf-8")
    emit_plan(result, fmt, color=global_options(ctx).color)
    if out is not None and fmt == "text":
        next_step = (
            f"To make exactly these calls: pushctl apply {out}"
            if result.applyable and not result.is_empty
            else "There is nothing to apply."
        )
        click.echo(f"\nSaved the plan to {out}. {next_step}")
    if not result.applyable:
        ctx.exit(1)
    if detailed_exitcode and not result.is_empty:
        ctx.exit(EXIT_CHANGES)


def read_plan_file(path: Path) -> Plan:
    try:
        return Plan.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PushctlError(f"cannot read plan file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise PushctlError(
            f"{path} is not a pushctl plan file: {str(exc).splitlines()[0]}",
            hint="make one with `pushctl plan --out FILE`",
        ) from exc


@click.command()
@click.argument("planfile", type=click.Path(dir_okay=False, path_type=Path))
@plan_format_option
@click.pass_context
def show(ctx: click.Context, planfile: Path, fmt: str) -> None:
    """Print a saved plan, and whether it is intact and signed (exit 1 if apply would refuse it).

    In a format for machines or browsers (json, html, github, gitlab-report) the plan goes to
    stdout and the integrity lines to stderr.
    """
    saved = read_plan_file(planfile)
    emit_plan(saved, fmt, color=global_options(ctx).color)
    for_machines = fmt in ("json", "html") or fmt in CI_FORMATS
    if not for_machines:
        click.echo()
    if not echo_integrity(saved, os.environ, to_stderr=for_machines):
        ctx.exit(1)


@click.command()
@click.option(
    "--kind",
    type=click.Choice(["PushTask", "config"]),
    default="PushTask",
    show_default=True,
    help="config prints the schema of pushctl.yaml.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema (draft-07) of the manifest kinds, for editors."""
    document = manifest_json_schema() if kind == "PushTask" else config_json_schema()
    click.echo(json.dumps(document, indent=2, sort_keys=True))
