"""Apply progress: a bar on a terminal, plain lines in CI logs and pipes."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Self, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reconciler.engine.apply import ChangeOutcome


def wants_bar(stream: TextIO, env: Mapping[str, str]) -> bool:
    """A progress bar only for a person at a terminal: never in CI or when output is piped."""
    return stream.isatty() and not env.get("CI") and env.get("TERM") != "dumb"


def outcome_line(outcome: ChangeOutcome) -> str:
    mark = "ok" if outcome.ok else "FAILED"
    return f"  {outcome.address}: {outcome.action.value} {mark}: {outcome.detail}"


class ApplyProgress:
    """Called with each outcome as it lands; a context manager around the apply."""

    def __init__(self, total: int, *, bar: bool, color: bool) -> None:
        self.started = False
        self._progress: Progress | None = None
        if bar and total > 0:
            console = Console(file=sys.stdout, no_color=not color)
            self._progress = Progress(
                TextColumn("Applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task("apply", total=total)

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, outcome: ChangeOutcome) -> None:
        if self._progress is not None:
            self._progress.console.print(outcome_line(outcome), markup=False, highlight=False)
            self._progress.advance(self._task)
            return
        if not self.started:
            click.echo("Applying:")
            self.started = True
        click.echo(outcome_line(outcome))
