"""Stops, recalls and cancels: each recorded before it leaves and closed with its outcome.

`TaskCallSender` makes one call: the client calls back right before the request leaves (after
any retry's backoff), as it does for a push's intent, and the call's record is committed there;
the answer closes it together with its audit outcome record. A task already where the call
would leave it counts as success. A lost answer whose task cannot be read back leaves the record
open, and `CallResolver` settles it at the next run.

Apply reads the live status of each open call's push with the plan's touched tasks (refresh's
`read_push_ids`, under the app locks), `domain/task_calls.py` judges it, and this module writes
the verdict: the call is closed and its audit outcome appended in one transaction. A call whose
push cannot be read stays open, and only that is reported; nothing else waits for it, since a
stop or cancel sent twice is refused by TPNS or lands on a task already there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.domain.plan import Change
from reconciler.domain.task_calls import (
    ALREADY_THERE,
    CANCEL_PATH,
    RECALL_PATH,
    STOP_PATH,
    TARGET_STATUS,
    CallVerdict,
    Settlement,
    call_label,
    next_step,
    settle,
)
from reconciler.errors import ApiError, PushctlError, TransportError
from reconciler.records import LiveStatus, LiveTask, TaskCall

if TYPE_CHECKING:
    from reconciler.engine.audit_trail import AuditTrail
    from reconciler.engine.ports import ApplyClient, ApplyStore

log = logging.getLogger(__name__)

#: Who settled a call whose answer was lost, as its audit outcome record says.
NEXT_RUN = "next run"


class TaskCallSender:
    """Makes one stop, revoke or cancel for apply, with its record and outcome."""

    def __init__(
        self,
        client: ApplyClient,
        store: ApplyStore,
        audit: AuditTrail,
        *,
        run_id: str,
        now: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.store = store
        self.audit = audit
        self.run_id = run_id
        self.now = now

    async def send(self, change: Change, path: str) -> str:
        send = {
            STOP_PATH: self.client.stop_push_msg,
            RECALL_PATH: self.client.revoke_push_msg,
            CANCEL_PATH: self.client.cancel_timing_task,
        }[path]
        name = path.rsplit("/", 1)[-1]
        call = TaskCall(
            call_id=f"{self.run_id}:{change.address}:{name}",
            run_id=self.run_id,
            address=change.address,
            app=change.app,
            action=change.action.value,
            path=path,
            push_id=str(change.push_id),
            created_at=self.now(),
        )
        opened: list[TaskCall] = []

        def commit_call() -> None:
            # Called by the client right before the request leaves; once, whatever the retries.
            if opened:
                return
            self.store.open_call(call, record=self.audit.call_intent(call))
            opened.append(call)
            log.info("%s: call %s recorded; POST %s", change.address, call.call_id, path)

        try:
            await send(call.push_id, on_send=commit_call)
        except (ApiError, TransportError) as exc:
            if not opened:
                raise  # it never left: no record, no outcome
            return await self._failed(call, exc)
        record_status(self.store, call.address, call.push_id, TARGET_STATUS[path], None)
        self._close(call, "done", ret_code=0, err_msg="")
        return f"{name} ok"

    async def _failed(self, call: TaskCall, exc: ApiError | TransportError) -> str:
        """Read the task back: already there is success; a lost answer unread stays open."""
        live = await self._read_back(call.push_id)
        if live is not None and live.status in ALREADY_THERE[call.path]:
            record_status(self.store, call.address, call.push_id, live.status, live)
            self._close(call, "done (already there)", ret_code=0, err_msg="already there")
            return f"already {live.status.value}"
        if isinstance(exc, ApiError):
            self._close(call, f"rejected {exc.code}", ret_code=exc.code, err_msg=exc.message)
        elif not exc.maybe_delivered:
            self._close(call, "not sent", ret_code=-1, err_msg=exc.message)
        elif live is not None:
            status = live.status.value
            message = f"{exc.message}; read back: push {call.push_id} is {status}"
            self._close(call, f"not done (read back: {status})", ret_code=-1, err_msg=message)
        else:
            exc.hint = (
                f"TPNS may have acted on it and push {call.push_id} could not be read back; "
                "the call stays open: the next plan or apply reads the task and records its outcome"
            )
        raise exc

    def _close(self, call: TaskCall, outcome: str, *, ret_code: int, err_msg: str) -> None:
        record = self.audit.call_outcome(call, ret_code=ret_code, err_msg=err_msg)
        self.store.close_call(call.call_id, outcome=outcome, record=record)

    async def _read_back(self, push_id: str) -> LiveTask | None:
        try:
            return await self.client.get_push_record(push_id)
        except PushctlError:
            return None


def record_status(
    store: ApplyStore, address: str, push_id: str, status: LiveStatus, live: LiveTask | None
) -> None:
    """Note a task's new status on its binding, if the address is still bound to that push."""
    binding = store.get_binding(address)
    if binding is None or binding.push_id != push_id:
        return
    update: dict[str, Any] = {"last_status": status}
    if live is not None:
        update["date"] = live.date
    store.put_binding(binding.model_copy(update=update))


class CallResolver:
    """Closes open calls from a live read of their pushes (push id -> task; absent: unread)."""

    def __init__(self, store: ApplyStore, audit: AuditTrail, live: Mapping[str, LiveTask]) -> None:
        self.store = store
        self.audit = audit
        self.live = live
        #: Apps whose state this resolver changed (a call closed).
        self.resolved_apps: set[str] = set()

    def resolve_open(self, apps: Sequence[str]) -> list[str]:
        """Settle every open call of these apps; returns a line per call looked at."""
        lines: list[str] = []
        for app in apps:
            for call in self.store.open_calls(app):
                found = settle(call, self.live.get(call.push_id))
                if not found.settled:
                    lines.append(
                        f"{call.address}: interrupted {call.action} of run {call.run_id}: still "
                        f"unknown, push {call.push_id} cannot be read; {next_step(call)}"
                    )
                    continue
                self._close(found)
                lines.append(
                    f"{call.address}: interrupted {call.action} of run {call.run_id}: "
                    f"{found.outcome}"
                )
        return lines

    def _close(self, found: Settlement) -> None:
        call = found.call
        record = self.audit.call_outcome(
            call, ret_code=0, err_msg=f"resolved open call: {found.outcome}", resolved_by=NEXT_RUN
        )
        self.store.close_call(call.call_id, outcome=found.outcome, record=record)
        self.resolved_apps.add(call.app)
        log.info("%s closed: %s", call_label(call), found.outcome)
        if found.verdict is CallVerdict.DONE:
            live = self.live[call.push_id]
            record_status(self.store, call.address, call.push_id, live.status, live)
