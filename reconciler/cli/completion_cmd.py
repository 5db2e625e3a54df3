"""`pushctl completion SHELL`: the script that makes the shell complete pushctl's words.

click answers completion requests itself when `_PUSHCTL_COMPLETE` is set; this command only
prints the shell's glue, so users need not know that variable.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

COMPLETE_VAR = "_PUSHCTL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    bash:  eval "$(pushctl completion bash)"   (e.g. in ~/.bashrc)
    zsh:   eval "$(pushctl completion zsh)"    (e.g. in ~/.zshrc)
    fish:  pushctl completion fish > ~/.config/fish/completions/pushctl.fish
    """
    from reconciler.cli.main import cli  # noqa: PLC0415 - main imports this module lazily

    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS has one
    click.echo(completer(cli, {}, "pushctl", COMPLETE_VAR).source())
