"""What the engine needs from the TPNS client and the state store, as protocols.

The CLI hands in the concrete `TpnsClient` and `StateStore`; tests may hand in anything that
fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from reconciler.records import Intent, LiveTask, StateSnapshot, TaskBinding, TaskCall
from reconciler.state.audit import AuditEntry


class PushAccepted(Protocol):
    @property
    def push_id(self) -> str: ...


class ApplyClient(Protocol):
    async def push_app(
        self, body: dict[str, Any], *, on_send: Callable[[], None] | None = None
    ) -> PushAccepted:
        """`on_send` runs right before the request leaves (after pacing waits)."""
        ...

    async def get_push_record(self, push_id: str) -> LiveTask: ...

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]: ...

    async def stop_push_msg(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None: ...

    async def revoke_push_msg(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None: ...

    async def cancel_timing_task(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None: ...


class ApplyStore(Protocol):
    def snapshot(self) -> StateSnapshot: ...

    def bump_serial(self, apps: Sequence[str] = ()) -> int: ...

    def get_binding(self, address: str) -> TaskBinding | None: ...

    def put_binding(self, binding: TaskBinding) -> None: ...

    def remove_binding(self, address: str) -> None: ...

    def forget_binding(self, address: str) -> TaskBinding | None: ...

    def restore_binding(self, address: str, push_id: str) -> TaskBinding | None: ...

    def open_intent(self, intent: Intent) -> None: ...

    def close_intent(self, intent_id: str, *, push_id: str | None, outcome: str) -> None: ...

    def hold_intent(self, intent_id: str, *, until: datetime) -> Intent:
        """Keep an open intent from being concluded "not created" before `until`."""
        ...

    def open_intents(self, app: str | None = None) -> list[Intent]: ...

    def open_call(self, call: TaskCall, *, record: AuditEntry) -> None:
        """Record the call and append its audit intent record in one transaction."""
        ...

    def close_call(self, call_id: str, *, outcome: str, record: AuditEntry) -> None:
        """Close the call and append its audit outcome record in one transaction."""
        ...

    def open_calls(self, app: str | None = None) -> list[TaskCall]: ...
