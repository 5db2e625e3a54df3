"""Running a command's coroutine to its end, as `asyncio.run` does, minus one costly repr.

`asyncio.run` installs a SIGINT handler, a `functools.partial` holding the main task, and puts
the previous handler back when the task is done. On the way it calls `signal.getsignal` and
`signal.signal`, which try to turn the handler into a `signal.Handlers` member; that fails, and
the failure is formatted with `repr(handler)`: the task's repr, which holds the repr of its
result. A plan of 10,000 changes is a pydantic model whose full repr took about 0.7 s of CPU,
twice. The coroutine below returns nothing: its result is handed back beside the task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_to_end(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, with Ctrl-C and SIGTERM handled the same, returning main's result."""
    results: list[T] = []

    async def keep_result() -> None:
        results.append(await main)

    asyncio.run(keep_result())
    return results[0]
