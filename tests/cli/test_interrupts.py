"""SIGTERM is handled like Ctrl-C, with its own exit code."""

from __future__ import annotations

import os
import signal

import click
import pytest

from reconciler.cli.interrupts import Terminated, exit_interrupted, handle_sigterm


def test_sigterm_raises_terminated_once_then_is_ignored() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        handle_sigterm()
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as the call returns
        os.kill(os.getpid(), signal.SIGTERM)  # a second one does not cut the unwinding short
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize(
    ("interrupt", "code", "said"),
    [(Terminated(), 143, "Terminated."), (KeyboardInterrupt(), 130, "Interrupted.")],
)
def test_exit_code_tells_sigterm_from_ctrl_c(
    interrupt: KeyboardInterrupt, code: int, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    abort = click.exceptions.Abort()
    abort.__cause__ = interrupt  # as click raises it
    with pytest.raises(SystemExit) as info:
        exit_interrupted(abort)
    assert info.value.code == code
    assert capsys.readouterr().err.startswith(said)
