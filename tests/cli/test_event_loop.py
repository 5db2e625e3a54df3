"""A command's coroutine runs to its end without its result being formatted."""

from __future__ import annotations

import pytest

from reconciler.cli.event_loop import run_to_end


class Result:
    """Counts how often it is turned into text (a plan's full repr costs seconds)."""

    def __init__(self) -> None:
        self.reprs = 0

    def __repr__(self) -> str:
        self.reprs += 1
        return "Result()"


def test_result_comes_back_unformatted() -> None:
    made = Result()

    async def command() -> Result:
        return made

    assert run_to_end(command()) is made
    assert made.reprs == 0


def test_an_error_of_the_coroutine_reaches_the_caller() -> None:
    async def command() -> None:
        raise LookupError("no such task")

    with pytest.raises(LookupError, match="no such task"):
        run_to_end(command())
