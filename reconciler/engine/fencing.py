"""Mutating TPNS calls that first make sure this run still holds its app's lock.

A lock can be lost while a run is alive: its PostgreSQL session ended, or its lease expired
while the process was stalled and another run took it over. Checking right before each
stop, revoke, cancel or push, and renewing the lease in the same step, means a run that lost
its lock makes no further call, and the lease it renewed outlasts the call it then makes.

Every call is checked from inside the client, right before its request leaves (after any wait
for a push's 1/s turn or a retry's backoff), so it is checked when it really goes rather than
when it joined the queue.
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

    def _fenced(self, on_send: Callable[[], None] | None) -> Callable[[], None]:
        def fenced() -> None:
            # Right before the request leaves, after any wait (the 1/s turn of a broadcast
            # push, a retry's backoff): the check happens when the call really goes, then
            # the engine commits its write-ahead record.
            self._check()
            if on_send is not None:
                on_send()
            if self._crash is not None:
                self._crash.passing("after-intent")

        return fenced

    def _after(self) -> None:
        if self._crash is not None:
            self._crash.passing("after-send")

    async def push_app(
        self, body: dict[str, Any], *, on_send: Callable[[], None] | None = None
    ) -> PushAccepted:
        accepted = await self._inner.push_app(body, on_send=self._fenced(on_send))
        self._after()
        return accepted

    async def stop_push_msg(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None:
        await self._inner.stop_push_msg(push_id, on_send=self._fenced(on_send))
        self._after()

    async def revoke_push_msg(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None:
        await self._inner.revoke_push_msg(push_id, on_send=self._fenced(on_send))
        self._after()

    async def cancel_timing_task(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None:
        await self._inner.cancel_timing_task(push_id, on_send=self._fenced(on_send))
        self._after()

    async def get_push_record(self, push_id: str) -> LiveTask:
        return await self._inner.get_push_record(push_id)

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]:
        return await self._inner.list_push_records(
            start_date=start_date, end_date=end_date, page_size=page_size
        )
