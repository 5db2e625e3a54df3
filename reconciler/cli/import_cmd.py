"""`pushctl import`: write PushTask manifests that adopt live tasks."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import click

from reconciler.cli.context import Workspace, open_workspace
from reconciler.cli.event_loop import run_to_end
from reconciler.cli.state_choice import state_option
from reconciler.engine.importer import (
    ImportedTask,
    Skipped,
    append_documents,
    existing_push_ids,
    read_existing,
    read_tasks,
    to_manifests,
)
from reconciler.errors import UsageError
from reconciler.records import LiveTask

SCHEMA_PATH = "schema/pushtask.schema.json"


def parse_since(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--since {text!r}: write a date as YYYY-MM-DD") from exc


async def fetch(
    workspace: Workspace, app: str, *, since: date | None, push_ids: tuple[str, ...], now: datetime
) -> list[LiveTask]:
    client = workspace.client_for(app)
    try:
        return await read_tasks(
            client,
            since=since,
            push_ids=push_ids,
            now=now,
            utc_offset=workspace.config.tpns_utc_offset,
        )
    finally:
        await client.aclose()


@click.command(name="import")
@click.option("--app", "app", required=True, help="App key in pushctl.yaml.")
@click.option(
    "--since",
    help="Oldest task date to import (YYYY-MM-DD); default and earliest: a month back, "
    "as far as TPNS keeps records.",
)
@click.option("--push-id", "push_ids", multiple=True, help="Import only this push id; repeatable.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append to this manifest file (comments and order kept). Default: stdout.",
)
@state_option
@click.pass_context
def import_(
    ctx: click.Context,
    app: str,
    since: str | None,
    push_ids: tuple[str, ...],
    out: Path | None,
) -> None:
    """Write manifests that adopt live TPNS tasks, in the state they are in now."""
    workspace = open_workspace(ctx, [out.parent] if out else [])
    if app not in workspace.config.apps:
        names = ", ".join(sorted(workspace.config.apps))
        raise UsageError(f"--app {app}: not in {workspace.config_path} (known: {names})")
    existing_text = out.read_text(encoding="utf-8") if out and out.exists() else ""
    known = existing_push_ids(read_existing(existing_text))
    known |= {b.push_id for b in workspace.open_state().snapshot().bindings.values()}
    tasks = run_to_end(
        fetch(workspace, app, since=parse_since(since), push_ids=push_ids, now=workspace.now())
    )
    imported, skipped = to_manifests(app, tasks, known_push_ids=known)
    text = append_documents(existing_text, imported)
    if not existing_text.strip():
        text = schema_modeline(workspace, out) + text
    if out is None:
        click.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    summarize(imported, skipped, out)


def schema_modeline(workspace: Workspace, out: Path | None) -> str:
    """The editor's schema line, pointing at the project's schema/ (as `pushctl init` lays it)."""
    schema = (workspace.base_dir / SCHEMA_PATH).resolve()
    folder = (out.parent if out else Path()).resolve()
    return f"# yaml-language-server: $schema={os.path.relpath(schema, folder)}\n"


def summarize(imported: list[ImportedTask], skipped: list[Skipped], out: Path | None) -> None:
    where = f" into {out}" if out else ""
    click.echo(f"Imported {len(imported)} task(s){where}; skipped {len(skipped)}.", err=True)
    for item in skipped:
        click.echo(f"  skipped push {item.push_id}: {item.reason}", err=True)
