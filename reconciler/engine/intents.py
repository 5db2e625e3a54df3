"""Resolve write-ahead intents: did a `/v3/push/app` whose outcome we never saw create a task?

TPNS has no idempotency key, so the answer comes from reading live tasks back: a task of the
intent's app, with the intent's title, content and audience, dated at or after the intent (or at
its send_time), and not bound to another address. Found: bind it. Not found: the request never
took effect, and the intent is closed so the change can be planned again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reconciler.domain.body import content_digest
from reconciler.domain.capabilities import REPORTED_PUSH_TYPE
from reconciler.errors import PushctlError
from reconciler.records import Intent, LiveTask, TaskBinding

if TYPE_CHECKING:
    from reconciler.engine.audit_trail import AuditTrail
    from reconciler.engine.ports import ApplyClient, ApplyStore

#: Clock difference tolerated between pushctl and TPNS when matching creation times.
SKEW = timedelta(minutes=10)


def matches(intent: Intent, task: LiveTask) -> bool:
    body = intent.body
    message: dict[str, Any] = body.get("message") or {}
    if task.title != message.get("title", "") or task.content != message.get("content", ""):
        return False
    audience = str(body.get("audience_type", ""))
    if task.push_type and task.push_type != REPORTED_PUSH_TYPE.get(audience, audience):
        return False
    return task.date >= intent.created_at - SKEW


class IntentResolver:
    def __init__(
        self,
        clients: Mapping[str, ApplyClient],
        store: ApplyStore,
        audit: AuditTrail,
        *,
        now: Callable[[], datetime],
        utc_offset: str = "+08:00",
    ) -> None:
        self.utc_offset = utc_offset
        self.clients = clients
        self.store = store
        self.audit = audit
        self.now = now

    async def resolve_open(self, apps: Sequence[str]) -> list[str]:
        """Resolve every open intent of these apps; returns a line per intent resolved."""
        lines: list[str] = []
        for app in apps:
            for intent in self.store.open_intents(app):
                if app not in self.clients:
                    continue
                push_id = await self.resolve(intent)
                found = f"found push {push_id}" if push_id else "no task was created"
                lines.append(
                    f"{intent.address}: interrupted create of run {intent.run_id}: {found}"
                )
        return lines

    async def resolve(self, intent: Intent, *, record: bool = True) -> str | None:
        """Look the intent's task up; bind it when found, close the intent either way.

        With `record` false the caller writes the intent's outcome record itself.
        """
        candidates = await self._candidates(intent)
        bound = {b.push_id for b in self.store.snapshot().bindings.values()}
        for task in sorted(candidates, key=lambda t: (t.date, t.push_id)):
            if task.push_id not in bound and matches(intent, task):
                self.bind(intent, task.push_id, date=task.date)
                if record:
                    self.audit.resolved(intent, push_id=task.push_id)
                return task.push_id
        self.store.close_intent(intent.intent_id, push_id=None, outcome="not created")
        if record:
            self.audit.resolved(intent, push_id=None)
        return None

    def bind(self, intent: Intent, push_id: str, *, date: datetime | None = None) -> None:
        self.store.put_binding(
            TaskBinding(
                address=intent.address,
                app=intent.app,
                push_id=push_id,
                created_by_pushctl=True,
                date=date or self._scheduled_date(intent) or intent.created_at,
                content_digest=content_digest(intent.body),
                body=intent.body,
            )
        )
        self.store.close_intent(intent.intent_id, push_id=push_id, outcome="created")

    def _scheduled_date(self, intent: Intent) -> datetime | None:
        send_time = intent.body.get("send_time")
        if not isinstance(send_time, str):
            return None
        return datetime.strptime(f"{send_time} {self.utc_offset}", "%Y-%m-%d %H:%M:%S %z")

    async def _candidates(self, intent: Intent) -> list[LiveTask]:
        client = self.clients[intent.app]
        # TPNS dates are wall dates in its zone, which can be a day ahead of the UTC date.
        zone = datetime.strptime(self.utc_offset, "%z").tzinfo
        start = (intent.created_at - SKEW - timedelta(days=1)).astimezone(zone).date()
        latest = max(self.now(), intent.created_at + timedelta(days=90))
        end = latest.astimezone(zone).date()
        try:
            return await client.list_push_records(start_date=start, end_date=end)
        except PushctlError as exc:
            raise PushctlError(
                f"cannot resolve the interrupted create of {intent.address}: {exc.message}",
                hint="the push may have been created; apply sends nothing for it until it has "
                "read the live tasks back — run apply again when TPNS answers",
            ) from exc
