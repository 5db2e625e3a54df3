"""Mutating TPNS calls that first make sure this run still holds its app's lock.

A lock can be lost while a run is alive: its PostgreSQL session ended, or its lease expired
while the process was stalled and another run took it over. Checking right before each
stop, revoke, cancel or push, and renewing the lease in the same step, means a run that lost
its lock makes no further call, and the lease it renewed outlasts the call it then makes.

A push is checked from inside the client, right before its request leaves (after any wait for
its 1/s turn), so it is checked when it really goes rather than when it joined the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from reconciler.engine.crash_points import CrashPlan
from reconciler.engine.ports import ApplyClient, PushAccepted
from reconciler.records import LiveTask


class FencedClient:
    """An ApplyClient whose mutating calls run `check` first (which raises LockLost)."""

    def __init__(
        self, inner: ApplyClient, check: Callable[[], None], *, crash: CrashPlan | None = None
    ) -> None:
        self._inner = inner
        self._check = check
        self._crash = crash

    def _before(self) -> None:
        self._check()
        if self._crash is not None:
            self._crash.passing("after-intent")

    def _after(self) -> None:
        if self._crash is not None:
            self._crash.passing("after-send")

    async def push_app(
        self, body: dict[str, Any], *, on_send: Callable[[], None] | None = None
    ) -> PushAccepted:
        def fenced() -> None:
            # Right before the request leaves, after the wait for its 1/s turn: the check
            # happens when the push really goes, then the engine commits its intent.
            self._check()
            if on_send is not None:
                on_send()
            if self._crash is not None:
                self._crash.passing("after-intent")

        accepted = await self._inner.push_app(body, on_send=fenced)
        self._after()
        return accepted

    async def stop_push_msg(self, push_id: str) -> None:
        self._before()
        await self._inner.stop_push_msg(push_id)
        self._after()

    async def revoke_push_msg(self, push_id: str) -> None:
        self._before()
        await self._inner.revoke_push_msg(push_id)
        self._after()

    async def cancel_timing_task(self, push_id: str) -> None:
        self._before()
        await self._inner.cancel_timing_task(push_id)
        self._after()

    async def get_push_record(self, push_id: str) -> LiveTask:
        return await self._inner.get_push_record(push_id)

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]:
        return await self._inner.list_push_records(
            start_date=start_date, end_date=end_date, page_size=page_size
        )
