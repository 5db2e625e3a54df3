"""A progress bar for a person at a terminal; plain lines in CI logs and pipes."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.progress import ApplyProgress, wants_bar
from reconciler.domain.plan import Action
from reconciler.engine.apply import ChangeOutcome


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "bar"),
    [
        (Terminal(), {}, True),
        (Terminal(), {"CI": "true"}, False),
        (Terminal(), {"TERM": "dumb"}, False),
        (io.StringIO(), {}, False),
    ],
    ids=["terminal", "ci", "dumb-terminal", "pipe"],
)
def test_wants_bar(stream: io.StringIO, env: dict[str, str], bar: bool) -> None:
    assert wants_bar(stream, env) is bar


def test_plain_lines_come_under_one_header(capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = [
        ChangeOutcome(address="app/a", action=Action.STOP, ok=True, detail="stop_push_msg ok"),
        ChangeOutcome(address="app/b", action=Action.CANCEL, ok=False, detail="1008007"),
    ]
    with ApplyProgress(2, bar=False, color=False) as progress:
        for outcome in outcomes:
            progress(outcome)
    assert capsys.readouterr().out == (
        "Applying:\n  app/a: stop ok: stop_push_msg ok\n  app/b: cancel FAILED: 1008007\n"
    )
