"""Every command has help text, and the README documents every command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconciler.cli.main import COMMANDS, cli

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    context = click.Context(cli)
    for name in sorted(COMMANDS):
        command = cli.get_command(context, name)
        assert command is not None, name
        paths.append((name,))
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in sorted(command.commands)]
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_command_has_help_and_is_in_the_readme(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    summary = result.output.split("\n\n")[1].strip()
    assert summary, f"`pushctl {' '.join(path)}` has no help text"
    assert f"pushctl {' '.join(path)}" in README, (
        f"README does not mention pushctl {' '.join(path)}"
    )


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
