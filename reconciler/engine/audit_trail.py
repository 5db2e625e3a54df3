"""What apply writes to the audit log: an intent before and an outcome after each call.

Each record says who (user, CI actor), where (host, CI run URL), why (commit, PR, plan digest),
what (action, address, push id, request with secrets redacted), when and the result
(docs/design.md, "State"). The hash chain itself belongs to the state store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from reconciler.domain.plan import Change
from reconciler.records import Intent, TaskCall
from reconciler.state.audit import AuditEntry, AuditKind, Provenance, Result, What, redact


class AuditTrail:
    def __init__(
        self,
        append: Callable[[AuditEntry], object],
        *,
        run_id: str,
        provenance: Provenance,
        plan_digest: str | None,
        now: Callable[[], datetime],
        secrets: Sequence[str] = (),
    ) -> None:
        self._append = append
        self.run_id = run_id
        self.provenance = provenance
        self.why = provenance.why.model_copy(update={"plan_digest": plan_digest})
        self._now = now
        self._secrets = list(secrets)

    def _record(self, kind: AuditKind, what: What, result: Result | None) -> None:
        self._append(self._entry(kind, what, result))

    def _entry(self, kind: AuditKind, what: What, result: Result | None) -> AuditEntry:
        return AuditEntry(
            kind=kind,
            run_id=self.run_id,
            who=self.provenance.who,
            where=self.provenance.where,
            why=self.why,
            what=what,
            when=self._now(),
            result=result,
        )

    def _what(self, change: Change, request: Mapping[str, Any] | None = None) -> What:
        body: dict[str, Any] = redact(dict(request or {}), self._secrets)
        return What(
            action=change.action.value,
            address=change.address,
            push_id=change.push_id,
            request=body,
        )

    def intent(self, change: Change, *, path: str, request: Mapping[str, Any]) -> None:
        self._record("intent", self._what(change, {"path": path, "body": dict(request)}), None)

    def outcome(
        self,
        change: Change,
        *,
        path: str,
        ret_code: int,
        err_msg: str,
        push_id: str | None = None,
    ) -> None:
        request: dict[str, Any] = {"path": path}
        if push_id is not None:
            request["new_push_id"] = push_id
        what = self._what(change, request)
        self._record("outcome", what, Result(ret_code=ret_code, err_msg=err_msg))

    def call_intent(self, call: TaskCall) -> AuditEntry:
        """The intent record of a stop, revoke or cancel, for the store to append as it records
        the call."""
        request = {"path": call.path, "body": {"pushId": call.push_id}, "call_id": call.call_id}
        return self._entry("intent", self._call_what(call, request), None)

    def call_outcome(
        self, call: TaskCall, *, ret_code: int, err_msg: str, resolved_by: str | None = None
    ) -> AuditEntry:
        """The outcome record of a call, for the store to append as it closes the call.

        `resolved_by` says who settled a call whose answer was lost: the next run, or a person.
        """
        request: dict[str, Any] = {"path": call.path, "call_id": call.call_id}
        if resolved_by is not None:
            request["resolved_by"] = resolved_by
        return self._entry(
            "outcome", self._call_what(call, request), Result(ret_code=ret_code, err_msg=err_msg)
        )

    def _call_what(self, call: TaskCall, request: Mapping[str, Any]) -> What:
        return What(
            action=call.action, address=call.address, push_id=call.push_id, request=dict(request)
        )

    def state_change(self, change: Change, *, detail: str) -> None:
        self._record("state", self._what(change), Result(ret_code=0, err_msg=detail))

    def resolved(self, intent: Intent, *, push_id: str | None) -> None:
        # Filed under the address the intent record used, so `audit log --address` pairs them.
        what = What(
            action=intent.action,
            address=intent.change_address or intent.address,
            push_id=None,
            request={
                "intent_id": intent.intent_id,
                "path": "/v3/push/app",
                "new_address": intent.address,
                "new_push_id": push_id,
            },
        )
        message = f"created as push {push_id}" if push_id else "not created"
        self._record(
            "outcome", what, Result(ret_code=0, err_msg=f"resolved open intent: {message}")
        )
