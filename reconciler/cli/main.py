"""The `pushctl` entry point: a click group whose subcommands load on first use.

`pushctl --help`, `--version` and `version` import click and nothing else of weight: the command
table below carries each command's one-line help, so listing the commands imports none of them.

Exit codes (docs/design.md, "Exit codes"): 0 success, 1 error, 2 changes present
(--detailed-exitcode), 3 lock not acquired, 4 stale plan, 64 usage error, 130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import click

from reconciler import __version__
from reconciler.cli.interrupts import exit_interrupted, handle_sigterm
from reconciler.errors import PushctlError

EXIT_USAGE = 64

# httpx's package imports its own command-line client (click, rich and pygments: about a quarter
# of `import httpx`) and puts a stub in its place when that import fails. pushctl never runs
# httpx's client, so its process marks that module absent before any command imports httpx
# (a None entry in sys.modules is how Python marks a module not importable).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


class CommandEntry(NamedTuple):
    target: str  # "module:attribute", imported only when the command runs
    summary: str  # its one-line help, for `pushctl --help` (a test keeps the two equal)


COMMANDS: dict[str, CommandEntry] = {
    "validate": CommandEntry(
        "reconciler.cli.validate_cmd:validate",
        "Check manifests and pushctl.yaml without calling TPNS. Exit 1 on any error.",
    ),
    "plan": CommandEntry(
        "reconciler.cli.plan_cmd:plan",
        "Read live tasks, diff them against the manifests, print the TPNS calls that close the "
        "gap.",
    ),
    "show": CommandEntry(
        "reconciler.cli.plan_cmd:show",
        "Print a saved plan, and whether it is intact and signed (exit 1 if apply would refuse "
        "it).",
    ),
    "schema": CommandEntry(
        "reconciler.cli.plan_cmd:schema",
        "Print the JSON Schema (draft-07) of the manifest kinds, for editors.",
    ),
    "apply": CommandEntry(
        "reconciler.cli.apply_cmd:apply",
        "Apply a saved plan exactly (PLANFILE), or plan, confirm and apply (-f PATH).",
    ),
    "import": CommandEntry(
        "reconciler.cli.import_cmd:import_",
        "Write manifests that adopt live TPNS tasks, in the state they are in now.",
    ),
    "init": CommandEntry(
        "reconciler.cli.init_cmd:init",
        "Start a pushctl project in a folder: config, an example manifest, CI and pre-commit.",
    ),
    "state": CommandEntry(
        "reconciler.cli.state_cmd:state", "Inspect or edit what pushctl remembers about push tasks."
    ),
    "force-unlock": CommandEntry(
        "reconciler.cli.state_cmd:force_unlock", "Release the locks of a run that died."
    ),
    "audit": CommandEntry(
        "reconciler.cli.audit_cmd:audit", "Read and verify the tamper-evident audit log."
    ),
    "emulator": CommandEntry(
        "reconciler.cli.emulator_cmd:emulator",
        "A local TPNS REST API v3 for tests, demos and CI service containers.",
    ),
    "completion": CommandEntry(
        "reconciler.cli.completion_cmd:completion",
        "Print the shell completion script for bash, zsh or fish.",
    ),
    "version": CommandEntry("reconciler.cli.main:version", "Print the pushctl version."),
}


@dataclass(frozen=True)
class GlobalOptions:
    config: Path | None
    color: bool
    verbose: int


def root_options(ctx: click.Context) -> GlobalOptions:
    """The global options, wherever on the command line they were given."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions(None, color=False, verbose=0)


class LazyGroup(click.Group):
    """Imports a command only to run it; suggests the closest name for a typo."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry.target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return accept_global_options(command)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            # click suggests from `self.commands`, which a lazy group leaves empty.
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=COMMANDS, ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name].summary) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


# -- global options, before or after the subcommand ----------------------------------------

_GLOBAL_HELP = {
    "config": "pushctl.yaml to use (default: found beside the manifests, then in the current "
    "folder).",
    "no_color": "Plain output (also when NO_COLOR is set).",
    "verbose": "More detail on stderr; repeat for more (-vv: every TPNS exchange).",
}


def _update_root(ctx: click.Context, **changes: object) -> None:
    root = ctx.find_root()
    root.obj = replace(root_options(ctx), **changes)  # type: ignore[arg-type]


def _late_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        _update_root(ctx, config=value)


def _late_no_color(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        _update_root(ctx, color=False)


def _late_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        verbose = root_options(ctx).verbose + value
        _update_root(ctx, verbose=verbose)
        configure_logging(verbose)


def _late_options() -> list[click.Option]:
    """The global options again, for a subcommand: `pushctl plan -v --config X` works too."""
    return [
        click.Option(
            ["--config"],
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            callback=_late_config,
            help=_GLOBAL_HELP["config"],
        ),
        click.Option(
            ["--no-color"],
            is_flag=True,
            expose_value=False,
            callback=_late_no_color,
            help=_GLOBAL_HELP["no_color"],
        ),
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_late_verbose,
            help=_GLOBAL_HELP["verbose"],
        ),
    ]


def accept_global_options(command: click.Command) -> click.Command:
    """Give the command (and a group's subcommands) the global options it does not define."""
    if getattr(command, "_pushctl_globals", False):
        return command
    taken = {opt for param in command.params for opt in param.opts}
    command.params.extend(
        option for option in _late_options() if not taken.intersection(option.opts)
    )
    command._pushctl_globals = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_global_options(sub)
    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pushctl", message="%(prog)s %(version)s")
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help=_GLOBAL_HELP["config"]
)
@click.option("--no-color", is_flag=True, help=_GLOBAL_HELP["no_color"])
@click.option("-v", "--verbose", count=True, help=_GLOBAL_HELP["verbose"])
@click.pass_context
def cli(ctx: click.Context, config: Path | None, no_color: bool, verbose: int) -> None:
    """Declarative push-task reconciliation for Tencent Push Notification Service (TPNS).

    Write the state each push task should be in as YAML, `pushctl plan` to see the TPNS calls
    that close the gap, `pushctl apply` to make exactly those calls. Global options work before
    or after the command (`pushctl plan -v`).
    """
    color = not no_color and "NO_COLOR" not in os.environ
    ctx.obj = GlobalOptions(config=config, color=color, verbose=verbose)
    configure_logging(verbose)


def configure_logging(verbose: int) -> None:
    """Warnings (retries, backoff) always; -v adds progress, -vv every TPNS exchange."""
    import logging  # noqa: PLC0415 - not needed by --help, which stops before this runs

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
    """Run the CLI and exit with its exit code (see the module docstring)."""
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
