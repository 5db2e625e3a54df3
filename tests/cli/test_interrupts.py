"""SIGTERM is handled like Ctrl-C, with its own exit code."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import click
import pytest

from reconciler.cli.interrupts import Terminated, exit_interrupted, handle_sigterm


@pytest.fixture
def sigterm_handled() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    handle_sigterm()
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.usefixtures("sigterm_handled")
def test_sigterm_raises_terminated_once_then_is_ignored() -> None:
    with pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as the call returns
    os.kill(os.getpid(), signal.SIGTERM)  # a second one does not cut the unwinding short
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


@pytest.mark.usefixtures("sigterm_handled")
def test_sigterm_during_asyncio_run_cancels_every_task_at_its_await() -> None:
    tasks: list[asyncio.Task[None]] = []
    unwound: list[str] = []

    async def worker() -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of this task's step
        try:
            await asyncio.sleep(10)
        finally:
            unwound.append("worker")

    async def main() -> None:
        tasks.append(asyncio.create_task(worker()))
        try:
            await asyncio.sleep(10)
        finally:
            unwound.append("main")

    with pytest.raises(Terminated):
        asyncio.run(main())

    assert sorted(unwound) == ["main", "worker"]
    assert tasks[0].cancelled()  # not killed half-way with an exception nobody reads


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
