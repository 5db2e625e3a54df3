"""Resolving open intents against stand-in stores and clients: what is bound, closed and said."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from reconciler.engine.intents import IntentResolver, matches
from reconciler.engine.live_catalog import HORIZON
from reconciler.errors import PushctlError
from reconciler.records import Intent, LiveStatus, LiveTask, StateSnapshot, TaskBinding

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
BODY: dict[str, Any] = {
    "audience_type": "all",
    "message_type": "notify",
    "message": {"title": "Flash sale", "content": "Tap to see the deals."},
}


def _intent(app: str = "shop-android", *, created_at: datetime = NOW) -> Intent:
    return Intent(
        intent_id=f"run-1:{app}",
        run_id="run-1",
        address=f"{app}/flash",
        app=app,
        action="create",
        body_digest="d",
        body=BODY,
        created_at=created_at,
    )


def _task(push_id: str = "777", **raw: Any) -> LiveTask:
    return LiveTask(
        push_id=push_id,
        status=LiveStatus.FINISHED,
        date=NOW + timedelta(seconds=2),
        push_type="all",
        message_type="notify",
        title="Flash sale",
        content="Tap to see the deals.",
        raw=raw,
    )


class Lister:
    """Answers list_push_records with fixed tasks, or raises the given error."""

    def __init__(self, tasks: list[LiveTask], *, error: PushctlError | None = None) -> None:
        self.tasks = tasks
        self.error = error
        self.reads = 0

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = 200
    ) -> list[LiveTask]:
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.tasks


class Store:
    """The part of the apply store the resolver uses, recording what it is told."""

    def __init__(self, intents: list[Intent]) -> None:
        self.intents = intents
        self.closed: list[tuple[str, str | None, str]] = []
        self.bindings: list[TaskBinding] = []

    def snapshot(self) -> StateSnapshot:
        return StateSnapshot(lineage="l", serial=1)

    def open_intents(self, app: str | None = None) -> list[Intent]:
        done = {intent_id for intent_id, _, _ in self.closed}
        return [
            i for i in self.intents if i.intent_id not in done and (app is None or i.app == app)
        ]

    def close_intent(self, intent_id: str, *, push_id: str | None, outcome: str) -> None:
        self.closed.append((intent_id, push_id, outcome))

    def put_binding(self, binding: TaskBinding) -> None:
        self.bindings.append(binding)


class Audit:
    def __init__(self) -> None:
        self.resolved_ids: list[str | None] = []

    def resolved(self, intent: Intent, *, push_id: str | None) -> None:
        self.resolved_ids.append(push_id)


def _resolver(clients: dict[str, Lister], store: Store, audit: Audit) -> IntentResolver:
    return IntentResolver(
        clients,
        store,  # type: ignore[arg-type]
        audit,  # type: ignore[arg-type]
        now=lambda: NOW + timedelta(minutes=5),
        grace={"shop-android": 120.0},
    )


@pytest.mark.parametrize(
    ("raw", "created_by_a_request"),
    [({}, True), ({"source": ""}, True), ({"source": "api"}, True), ({"source": "web"}, False)],
)
def test_a_task_is_a_lost_create_only_when_made_by_a_request(
    raw: dict[str, Any], created_by_a_request: bool
) -> None:
    assert matches(_intent(), _task(**raw), send_time=None) is created_by_a_request


async def test_a_found_task_is_bound_and_its_intent_closed_as_created() -> None:
    store, audit = Store([_intent()]), Audit()
    resolver = _resolver({"shop-android": Lister([_task("777")])}, store, audit)
    assert await resolver.resolve(_intent()) == "777"
    assert store.closed == [("run-1:shop-android", "777", "created")]
    [binding] = store.bindings
    assert (binding.address, binding.push_id, binding.date) == (
        "shop-android/flash",
        "777",
        NOW + timedelta(seconds=2),
    )
    assert audit.resolved_ids == ["777"]


async def test_only_the_intents_of_the_apps_asked_for_are_resolved() -> None:
    android, ios = _intent("shop-android"), _intent("shop-ios")
    store, audit = Store([android, ios]), Audit()
    clients = {"shop-android": Lister([_task("777")]), "shop-ios": Lister([_task("888")])}
    lines = await _resolver(clients, store, audit).resolve_open(["shop-android"])
    assert lines == ["shop-android/flash: interrupted create of run run-1: found push 777"]
    assert store.closed == [("run-1:shop-android", "777", "created")]
    assert clients["shop-ios"].reads == 0


async def test_an_intent_tpns_cannot_be_asked_about_keeps_its_reason() -> None:
    down = PushctlError("TPNS is down")
    store, audit = Store([_intent()]), Audit()
    resolver = _resolver({"shop-android": Lister([], error=down)}, store, audit)
    [line] = await resolver.resolve_open(["shop-android"])
    reason = resolver.unresolved["shop-android/flash"]
    assert line == (
        "shop-android/flash: interrupted create of run run-1: still unknown "
        "(cannot resolve the interrupted create of shop-android/flash: TPNS is down)"
    )
    assert reason.startswith("cannot resolve the interrupted create of shop-android/flash")
    assert reason.endswith(
        "apply sends nothing for it until it has read the live tasks back — "
        "run apply again when TPNS answers"
    )
    assert store.closed == []


async def test_a_recent_intent_with_no_task_waits_for_the_grace_period() -> None:
    recent = _intent(created_at=NOW + timedelta(minutes=4))
    store, audit = Store([recent]), Audit()
    resolver = _resolver({"shop-android": Lister([])}, store, audit)
    with pytest.raises(PushctlError) as caught:
        await resolver.resolve(recent)
    assert caught.value.hint == (
        "nothing was sent again; run apply after 2026-11-21T02:06:00+00:00 "
        "(readBackGraceSeconds in pushctl.yaml) to conclude"
    )
    assert store.closed == []


async def test_an_intent_past_the_record_horizon_is_never_judged_absent() -> None:
    old = _intent(created_at=NOW - HORIZON - timedelta(days=2))
    store, audit = Store([old]), Audit()
    resolver = _resolver({"shop-android": Lister([])}, store, audit)
    with pytest.raises(PushctlError) as caught:
        await resolver.resolve(old)
    assert caught.value.message.endswith(
        "is older than TPNS's one-month record horizon: its absence there does not prove it "
        "was never sent"
    )
    assert store.closed == []
