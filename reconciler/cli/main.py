"""The `pushctl` entry point: a click group whose subcommands load on first use.

Exit codes (DESIGN.md section 7): 0 success, 1 error, 2 changes present (--detailed-exitcode),
3 lock not acquired, 4 stale plan, 64 usage error.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler import __version__
from reconciler.cli.interrupts import exit_interrupted, handle_sigterm
from reconciler.errors import PushctlError

EXIT_USAGE = 64

#: command name -> "module:attribute", imported only when the command runs or help is shown.
COMMANDS: dict[str, str] = {
    "validate": "reconciler.cli.plan_cmd:validate",
    "plan": "reconciler.cli.plan_cmd:plan",
    "show": "reconciler.cli.plan_cmd:show",
    "schema": "reconciler.cli.plan_cmd:schema",
    "apply": "reconciler.cli.apply_cmd:apply",
    "import": "reconciler.cli.import_cmd:import_",
    "state": "reconciler.cli.state_cmd:state",
    "force-unlock": "reconciler.cli.state_cmd:force_unlock",
    "audit": "reconciler.cli.audit_cmd:audit",
    "emulator": "reconciler.cli.emulator_cmd:emulator",
    "version": "reconciler.cli.main:version",
}


@dataclass(frozen=True)
class GlobalOptions:
    config: Path | None
    color: bool
    verbose: int


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="pushctl.yaml to use (default: found beside the manifests, then in the current folder).",
)
@click.option("--no-color", is_flag=True, help="Plain output (also when NO_COLOR is set).")
@click.option("-v", "--verbose", count=True, help="More detail; repeat for more.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, no_color: bool, verbose: int) -> None:
    """Declarative push-task reconciliation for Tencent Push Notification Service (TPNS).

    Write the state each push task should be in as YAML, `pushctl plan` to see the TPNS calls
    that close the gap, `pushctl apply` to make exactly those calls.
    """
    color = not no_color and "NO_COLOR" not in os.environ
    ctx.obj = GlobalOptions(config=config, color=color, verbose=verbose)
    configure_logging(verbose)


def configure_logging(verbose: int) -> None:
    """Warnings (retries, backoff) always; -v adds progress, -vv every TPNS exchange."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@click.command()
def version() -> None:
    """Print the pushctl version."""
    click.echo(f"pushctl {__version__}")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the DESIGN.md exit code."""
    handle_sigterm()
    try:
        code = cli.main(args=argv, prog_name="pushctl", standalone_mode=False)
    except click.exceptions.Abort as exc:  # click turns KeyboardInterrupt into Abort
        exit_interrupted(exc)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PushctlError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        exit_interrupted(exc)
    sys.exit(code if isinstance(code, int) else 0)
