"""`pushctl emulator serve` and `pushctl emulator clock`: the local TPNS emulator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from reconciler.emulator import AppSpec, EmulatorCore, EmulatorSettings
from reconciler.emulator.server import is_loopback_host, serve
from reconciler.emulator.settings import settings_from_text

ADMIN_TOKEN_ENV = "PUSHCTL_EMULATOR_ADMIN_TOKEN"


def parse_app_option(value: str, *, recall: bool, rate_limits: bool) -> AppSpec:
    """ID:SECRET:PLATFORM -> AppSpec; click.BadParameter names what is wrong."""
    parts = value.split(":")
    if len(parts) != 3 or not all(parts):
        raise click.BadParameter(
            f"{value!r} is not ID:SECRET:PLATFORM (e.g. 1500001048:demo-secret:android)",
            param_hint="--app",
        )
    access_id, secret, platform = parts
    if platform not in ("android", "ios"):
        raise click.BadParameter(
            f"platform must be android or ios, got {platform!r}", param_hint="--app"
        )
    return AppSpec(
        access_id=access_id,
        secret=secret,
        platform="android" if platform == "android" else "ios",
        recall_enabled=recall,
        rate_limits=rate_limits,
    )


@click.group()
def emulator() -> None:
    """A local TPNS REST API v3 for tests, demos and CI service containers."""


@emulator.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; 0.0.0.0 serves other machines (e.g. as a CI service container).",
)
@click.option("--port", default=8080, show_default=True, type=int, help="Port (0 = any free).")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file that keeps apps, tasks, ledger and clock between runs (default: memory).",
)
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="ID:SECRET:PLATFORM",
    help="Register an app (test credentials only), e.g. 1500001048:demo-secret:android.",
)
@click.option("--no-rate-limits", is_flag=True, help="Disable the 1/s push and 200/h query limits.")
@click.option("--recall", is_flag=True, help="Let revoke_push_msg succeed (TPNS has it offline).")
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a rule TPNS leaves open, e.g. over_page_limit=refuse or "
    "refusal_codes.upload_unknown=1008015 (see docs/emulator.md).",
)
@click.option(
    "--admin-token",
    envvar=ADMIN_TOKEN_ENV,
    metavar="TOKEN",
    help=f"Open /_emulator/ to clients sending `Authorization: Bearer TOKEN` (and only to them); "
    f"without it /_emulator/ answers loopback clients only. Prefer ${ADMIN_TOKEN_ENV}.",
)
def serve_command(
    *,
    host: str,
    port: int,
    db: Path | None,
    apps: tuple[str, ...],
    no_rate_limits: bool,
    recall: bool,
    settings: tuple[str, ...],
    admin_token: str | None,
) -> None:
    """Serve the emulator until interrupted; prints the base URL first.

    It speaks plain HTTP and holds test credentials: bind beyond loopback only on a network
    that is yours, such as a CI job's service network.
    """
    if not is_loopback_host(host):
        where = "needs the admin token" if admin_token else "stays loopback-only (no --admin-token)"
        click.echo(
            f"warning: serving plain HTTP on {host}, beyond loopback; /_emulator/ {where}",
            err=True,
        )
    specs = [parse_app_option(a, recall=recall, rate_limits=not no_rate_limits) for a in apps]
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    try:
        chosen = settings_from_text(settings, EmulatorSettings(rate_limits=not no_rate_limits))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--setting") from exc
    core = EmulatorCore(db, settings=chosen)
    for spec in specs:
        core.add_app(spec)
    try:
        serve(
            core,
            host,
            port,
            admin_token=admin_token or None,
            on_ready=lambda url: click.echo(f"TPNS emulator listening on {url}"),
        )
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


@emulator.command("clock")
@click.option(
    "--db",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The emulator's SQLite file (an embedded emulator keeps it in .pushctl/emulator.db).",
)
@click.option("--set", "set_to", metavar="ISO8601", help="Move the clock to this time.")
@click.option("--advance", type=float, metavar="SECONDS", help="Move the clock forward.")
def clock_command(*, db: Path, set_to: str | None, advance: float | None) -> None:
    """Show or move the clock of an emulator kept in a SQLite file.

    Scheduled tasks start and running ones finish as this clock moves; pushctl plans with it when
    its apps use `endpoint: emulator`.
    """
    if set_to is not None and advance is not None:
        raise click.UsageError("give --set or --advance, not both")
    db.parent.mkdir(parents=True, exist_ok=True)
    core = EmulatorCore(db)
    try:
        if set_to is not None:
            when = parse_instant(set_to)
            core.set_clock(when)
        elif advance is not None:
            core.advance_clock(advance)
        click.echo(core.now().isoformat())
    finally:
        core.close()


def parse_instant(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not ISO 8601", param_hint="--set") from exc
    if when.tzinfo is None:
        raise click.BadParameter(
            f"{text!r} has no UTC offset; write e.g. 2026-11-28T10:00:00+08:00", param_hint="--set"
        )
    return when
