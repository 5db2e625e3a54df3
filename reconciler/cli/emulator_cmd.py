"""`pushctl emulator serve`: run the local TPNS emulator on loopback."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.emulator import AppSpec, EmulatorCore, EmulatorSettings
from reconciler.emulator.server import check_loopback_host, serve


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
    """A local TPNS REST API v3 for tests and demos (loopback only)."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
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
def serve_command(
    *,
    host: str,
    port: int,
    db: Path | None,
    apps: tuple[str, ...],
    no_rate_limits: bool,
    recall: bool,
) -> None:
    """Serve the emulator until interrupted; prints the base URL first."""
    try:
        check_loopback_host(host)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    specs = [parse_app_option(a, recall=recall, rate_limits=not no_rate_limits) for a in apps]
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    core = EmulatorCore(db, settings=EmulatorSettings(rate_limits=not no_rate_limits))
    for spec in specs:
        core.add_app(spec)
    serve(core, host, port, on_ready=lambda url: click.echo(f"TPNS emulator listening on {url}"))
