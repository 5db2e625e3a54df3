"""Settle the stops, recalls and cancels an interrupted run left open, with an outcome record.

Apply reads the live status of each open call's push with the plan's touched tasks (refresh's
`read_push_ids`, under the app locks), `domain/task_calls.py` judges it, and this module writes
the verdict: the call is closed and its audit outcome appended in one transaction. A call whose
push cannot be read stays open, and only that is reported; nothing else waits for it, since a
stop or cancel sent twice is refused by TPNS or lands on a task already there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from reconciler.domain.task_calls import CallVerdict, Settlement, call_label, next_step, settle
from reconciler.records import LiveTask, TaskCall

if TYPE_CHECKING:
    from reconciler.engine.audit_trail import AuditTrail
    from reconciler.engine.ports import ApplyStore

log = logging.getLogger(__name__)

#: Who settled a call whose answer was lost, as its audit outcome record says.
NEXT_RUN = "next run"


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
            self._record_status(call, self.live[call.push_id])

    def _record_status(self, call: TaskCall, live: LiveTask) -> None:
        binding = self.store.get_binding(call.address)
        if binding is not None and binding.push_id == call.push_id:
            update = {"last_status": live.status, "date": live.date}
            self.store.put_binding(binding.model_copy(update=update))
