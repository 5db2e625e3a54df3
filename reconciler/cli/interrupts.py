"""Ctrl-C and SIGTERM end a command the same way: unwind, give the locks back, say so.

SIGTERM is how CI cancels a job and how `kill` asks a process to stop. It is turned into
`Terminated`, a KeyboardInterrupt, so it takes the path Ctrl-C takes through click and asyncio:
`finally` blocks and `with` blocks run (the lease is released, clients and the state store
closed) and the exit code tells the two apart: 130 for SIGINT, 143 for SIGTERM.

While an event loop runs, Terminated is raised from a loop callback rather than from whatever
task happened to be running: asyncio.run then cancels every task at its await point, as it
does for Ctrl-C, instead of a task dying half-way through a step.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import NoReturn

import click

EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM
INTERRUPTED = (
    "A push in flight is recorded as an open intent: the next apply reads it back before "
    "sending anything."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived."""


def handle_sigterm() -> None:
    """Raise Terminated in the main thread on the first SIGTERM; ignore later ones so that
    the unwinding it starts is not cut short."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Not imported here on purpose: `--help` should not pay for asyncio, and where asyncio
        # was never imported no event loop can be running.
        asyncio = sys.modules.get("asyncio")
        try:
            if asyncio is None:
                raise RuntimeError("no event loop")
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise Terminated from None
        loop.call_soon_threadsafe(_terminate)

    signal.signal(signal.SIGTERM, on_sigterm)


def _terminate() -> None:
    raise Terminated


def exit_interrupted(exc: BaseException) -> NoReturn:
    """Report an interrupted command and exit 130 (Ctrl-C) or 143 (SIGTERM)."""
    chain: BaseException | None = exc
    while chain is not None and not isinstance(chain, Terminated):
        chain = chain.__cause__ or chain.__context__
    if chain is not None:
        click.echo(f"Terminated. {INTERRUPTED}", err=True)
        sys.exit(EXIT_SIGTERM)
    click.echo(f"Interrupted. {INTERRUPTED}", err=True)
    sys.exit(EXIT_SIGINT)
