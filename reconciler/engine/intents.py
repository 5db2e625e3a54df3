"""Resolve write-ahead intents: did a `/v3/push/app` whose outcome we never saw create a task?

TPNS has no idempotency key, so the answer comes from reading live tasks back: a task of the
intent's app, created through the API, with the intent's title, content, audience type and
targets (tags, token or account list, package), dated at its send_time or within minutes of
the intent, and not bound to another address. One found: bind it. None: the request never took
effect, and the intent is closed so the change can be planned again. More than one: refuse to
guess, and leave the intent open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from reconciler.domain.body import content_digest
from reconciler.domain.recognition import same_content
from reconciler.engine.live_catalog import HORIZON, SCHEDULE_AHEAD, HorizonWindow
from reconciler.errors import PushctlError
from reconciler.records import Intent, LiveTask, StateSnapshot, TaskBinding

if TYPE_CHECKING:
    from datetime import date

    from reconciler.engine.audit_trail import AuditTrail
    from reconciler.engine.ports import ApplyStore

#: How far a lost create's TPNS date may lie from the intent: TPNS's clock may be off, and a
#: wrong `tpnsUtcOffset` shifts every wall time it reports by up to 26 hours (UTC-12..UTC+14).
CLOCK_TOLERANCE = timedelta(hours=26, minutes=10)


class RecordLister(Protocol):
    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]: ...


def matches(intent: Intent, task: LiveTask, *, send_time: datetime | None) -> bool:
    """The task is this intent's push: same content, made by the API, dated where it would be.

    An immediate push is dated when TPNS made it; TPNS's clock and the configured
    `tpnsUtcOffset` can both be off, so that date is only required to lie within
    CLOCK_TOLERANCE of the intent. Bound tasks are excluded by the caller.
    """
    if not same_content(intent.body, task):
        return False
    if task.raw.get("source") not in (None, "", "api"):
        return False  # made in the console, not by a request like ours
    if send_time is not None and send_time > intent.created_at:
        return True  # same_content compared the send_time
    return abs(task.date - intent.created_at) <= CLOCK_TOLERANCE


def scheduled_date(intent: Intent, utc_offset: str) -> datetime | None:
    send_time = intent.body.get("send_time")
    if not isinstance(send_time, str) or not send_time:
        return None
    return datetime.strptime(f"{send_time} {utc_offset}", "%Y-%m-%d %H:%M:%S %z")


class IntentLookup:
    """Reads live tasks back to find what an intent created. Writes nothing."""

    def __init__(
        self,
        clients: Mapping[str, RecordLister],
        *,
        now: Callable[[], datetime],
        utc_offset: str = "+08:00",
    ) -> None:
        self.clients = clients
        self.now = now
        self.utc_offset = utc_offset

    async def find(self, intent: Intent, *, bound: set[str]) -> LiveTask | None:
        """The one unbound live task the intent created, or None; refuses to guess between two.

        None is an answer only when TPNS still keeps records as old as the intent: past its
        one-month horizon an absent task proves nothing, and the intent stays open.
        """
        send_time = scheduled_date(intent, self.utc_offset)
        found = [
            task
            for task in await self._candidates(intent)
            if task.push_id not in bound and matches(intent, task, send_time=send_time)
        ]
        if len(found) > 1:
            ids = ", ".join(sorted(t.push_id for t in found))
            raise PushctlError(
                f"cannot tell which of pushes {ids} is the interrupted create of "
                f"{intent.address} (run {intent.run_id}): they look the same",
                hint=f"declare `pushId: <the right one>` on {intent.address}, then "
                f"`pushctl state resolve {intent.address} --push-id ID`; nothing was sent",
            )
        if not found and self._earliest(intent) < self.now() - HORIZON:
            raise PushctlError(
                f"the interrupted create of {intent.address} (run {intent.run_id}, "
                f"{intent.created_at:%Y-%m-%d %H:%M %z}) is older than TPNS's one-month record "
                "horizon: its absence there does not prove it was never sent",
                hint=f"if you know what happened, say it: `pushctl state resolve "
                f"{intent.address} --push-id ID` or `--not-sent`; nothing is sent until then",
            )
        return found[0] if found else None

    def _earliest(self, intent: Intent) -> datetime:
        """The earliest TPNS date the intent's push can carry."""
        return intent.created_at - CLOCK_TOLERANCE

    async def _candidates(self, intent: Intent) -> list[LiveTask]:
        client = self.clients[intent.app]
        # TPNS dates are wall dates in its zone, which can be a day ahead of the UTC date.
        window = HorizonWindow.at(self.now(), utc_offset=self.utc_offset)  # TPNS keeps a month
        start = max(
            (self._earliest(intent) - timedelta(days=1)).astimezone(window.zone).date(),
            window.start_date,
        )
        latest = max(self.now(), intent.created_at + SCHEDULE_AHEAD) + CLOCK_TOLERANCE
        end = latest.astimezone(window.zone).date()
        try:
            return await client.list_push_records(start_date=start, end_date=end)
        except PushctlError as exc:
            raise PushctlError(
                f"cannot resolve the interrupted create of {intent.address}: {exc.message}",
                hint="the push may have been created; apply sends nothing for it until it has "
                "read the live tasks back — run apply again when TPNS answers",
            ) from exc


async def preview_open_intents(
    state: StateSnapshot,
    clients: Mapping[str, RecordLister],
    *,
    now: Callable[[], datetime],
    utc_offset: str,
) -> StateSnapshot:
    """The state as it will be once apply resolves the open intents, for planning.

    A create whose answer was lost may have made a task: plan against it (a cancel, say), so
    the change is not silently skipped. Nothing is written; apply resolves for real first.
    """
    lookup = IntentLookup(clients, now=now, utc_offset=utc_offset)
    bindings = dict(state.bindings)
    for intent in state.open_intents:
        if intent.app not in clients or intent.address in bindings:
            continue
        bound = claimed_push_ids(state) | {b.push_id for b in bindings.values()}
        try:
            task = await lookup.find(intent, bound=bound)
        except PushctlError:
            continue  # the planner's intent.open warning stands; apply decides
        if task is not None:
            bindings[intent.address] = binding_for(intent, task.push_id, date=task.date)
    return state.model_copy(update={"bindings": bindings})


def claimed_push_ids(state: StateSnapshot) -> set[str]:
    """Pushes state ties to an address, bound or forgotten: never another task's."""
    return {b.push_id for b in (*state.bindings.values(), *state.tombstones.values())}


def binding_for(intent: Intent, push_id: str, *, date: datetime) -> TaskBinding:
    return TaskBinding(
        address=intent.address,
        app=intent.app,
        push_id=push_id,
        created_by_pushctl=True,
        date=date,
        content_digest=content_digest(intent.body),
        body=intent.body,
    )


class IntentResolver:
    """Resolves open intents for apply: binds what was created, closes what was not."""

    def __init__(
        self,
        clients: Mapping[str, RecordLister],
        store: ApplyStore,
        audit: AuditTrail,
        *,
        now: Callable[[], datetime],
        utc_offset: str = "+08:00",
        grace: Mapping[str, float] | None = None,
    ) -> None:
        self.lookup = IntentLookup(clients, now=now, utc_offset=utc_offset)
        #: Per app, seconds a lost create may take to show up in get_push_record.
        self.grace = dict(grace or {})
        self.now = now
        #: Address -> why its interrupted create could not be settled this run.
        self.unresolved: dict[str, str] = {}
        #: Apps whose state this resolver changed (an intent bound or closed).
        self.resolved_apps: set[str] = set()
        self.utc_offset = utc_offset
        self.clients = clients
        self.store = store
        self.audit = audit

    async def resolve_open(self, apps: Sequence[str]) -> list[str]:
        """Resolve every open intent of these apps; returns a line per intent resolved."""
        lines: list[str] = []
        for app in apps:
            for intent in self.store.open_intents(app):
                if app not in self.clients:
                    continue
                try:
                    push_id = await self.resolve(intent)
                except PushctlError as exc:
                    # Only this address waits; the rest of the plan goes ahead.
                    self.unresolved[intent.address] = str(exc)
                    lines.append(
                        f"{intent.address}: interrupted create of run {intent.run_id}: "
                        f"still unknown ({exc.message})"
                    )
                    continue
                found = f"found push {push_id}" if push_id else "no task was created"
                lines.append(
                    f"{intent.address}: interrupted create of run {intent.run_id}: {found}"
                )
        return lines

    async def find_created(self, intent: Intent) -> LiveTask | None:
        """The live task the intent made, if TPNS shows one; writes nothing."""
        return await self.lookup.find(intent, bound=claimed_push_ids(self.store.snapshot()))

    async def resolve(self, intent: Intent, *, record: bool = True) -> str | None:
        """Look the intent's task up; bind it when found, close the intent either way.

        With `record` false the caller writes the intent's outcome record itself.
        """
        task = await self.lookup.find(intent, bound=claimed_push_ids(self.store.snapshot()))
        self.resolved_apps.add(intent.app)
        if task is not None:
            self.bind(intent, task.push_id, date=task.date)
            if record:
                self.audit.resolved(intent, push_id=task.push_id)
            return task.push_id
        settled_at = intent.created_at + timedelta(seconds=self.grace.get(intent.app, 0.0))
        if intent.hold_until is not None:
            settled_at = max(settled_at, intent.hold_until)
        if self.now() < settled_at:
            raise PushctlError(
                f"the create for {intent.address} (run {intent.run_id}) may still show up at "
                "TPNS: it is not among the live tasks yet",
                hint=f"nothing was sent again; run apply after {settled_at.isoformat()} "
                "(readBackGraceSeconds in pushctl.yaml) to conclude",
            )
        self.store.close_intent(intent.intent_id, push_id=None, outcome="not created")
        if record:
            self.audit.resolved(intent, push_id=None)
        return None

    def bind(self, intent: Intent, push_id: str, *, date: datetime | None = None) -> None:
        when = date or scheduled_date(intent, self.utc_offset) or intent.created_at
        self.store.put_binding(binding_for(intent, push_id, date=when))
        self.store.close_intent(intent.intent_id, push_id=push_id, outcome="created")
