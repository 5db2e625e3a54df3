"""`pushctl audit report`: the audit log as a document an auditor reads without pushctl."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from reconciler.cli.state_cmd import open_state
from reconciler.errors import UsageError
from reconciler.render.audit_report import (
    chain_status,
    render_report_csv,
    render_report_html,
    render_report_markdown,
)


@click.command("report")
@click.option("--since", metavar="DATE", help="Only records from this date or time (ISO 8601).")
@click.option("--address", help="Only the records of this task (app/name).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv", "html"]),
    default="md",
    show_default=True,
    help="csv writes the chain status to stderr.",
)
@click.pass_context
def audit_report(ctx: click.Context, since: str | None, address: str | None, fmt: str) -> None:
    """A timeline of every change (who, from which commit or PR, what was called, what TPNS
    answered) and the chain status. Exit 1 when the chain is broken."""
    start = parse_since(since) if since else None
    with open_state(ctx) as store:
        verdict = store.verify_audit()
        records = store.audit_records(address=address)
    chosen = [record for record in records if start is None or record.entry.when >= start]
    scope = describe_scope(len(chosen), since=since, address=address)
    if fmt == "csv":
        click.echo(render_report_csv(chosen), nl=False)
        click.echo(chain_status(verdict), err=True)
    elif fmt == "html":
        click.echo(render_report_html(chosen, verdict, scope=scope), nl=False)
    else:
        click.echo(render_report_markdown(chosen, verdict, scope=scope), nl=False)
    if not verdict.ok:
        ctx.exit(1)


def parse_since(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time; a time without an offset is read as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--since {text!r}: write a date (2026-11-28) or ISO 8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def describe_scope(count: int, *, since: str | None, address: str | None) -> str:
    parts = [f"{count} record{'s' if count != 1 else ''}"]
    if address:
        parts.append(f"of {address}")
    if since:
        parts.append(f"since {since}")
    return " ".join(parts) + "; times in UTC."
