"""Properties of the planner: empty when live satisfies desired, deterministic, JSON-stable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.domain.body import content_digest, tpns_body
from reconciler.domain.capabilities import REPORTED_PUSH_TYPE
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig, PushTask
from reconciler.domain.plan import Action, ApiUsage, Plan
from reconciler.domain.planner import PlanOptions, plan
from reconciler.records import LiveStatus, LiveTask, StateSnapshot, TaskBinding

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=BEIJING)
S = LiveStatus
CONFIG = PushctlConfig.model_validate(
    {
        "apps": {
            "droid": {
                "accessId": "1500001048",
                "platform": "android",
                "region": "ap-guangzhou",
                "secretKeyEnv": "DROID_KEY",
                "capabilities": {"recall": True},
            }
        }
    }
)
OPTIONS = PlanOptions(config=CONFIG, tool_version="1.0.0", api_usage=ApiUsage())

#: Live statuses (with the hours since their date) that already satisfy each desired state.
SATISFYING: dict[str, list[tuple[LiveStatus, float]]] = {
    "active": [(S.INIT, 2), (S.WAIT, 5), (S.STARTED, -1), (S.FINISHED, -1), (S.FINISHED, -48)],
    "stopped": [
        (S.DELETED_PUSH_MSG, -1),
        (S.FINISHED, -48),
        (S.CANCELED, 1),
        (S.REVOKED, -1),
        (S.COLLAPSED, -1),
        (S.FAILED, -1),
        (S.DELETED, -1),
    ],
    "cancelled": [(S.CANCELED, 1), (S.CANCELED, -1), (S.FAILED, -1), (S.DELETED, -1)],
    "recalled": [(S.REVOKED, -1), (S.CANCELED, 2), (S.FAILED, -1), (S.DELETED, -1)],
    "overridden": [(S.COLLAPSED, -1)],
}
ANY_HOURS = [-48.0, -1.0, 2.0]


TAG_RULES = [
    {
        "tag_items": [
            {
                "tags": ["vip"],
                "is_not": False,
                "tags_operator": "OR",
                "items_operator": "OR",
                "tag_type": "xg_user_define",
            }
        ],
        "operator": "OR",
        "is_not": False,
    }
]
AUDIENCE_FIELDS: dict[str, dict[str, Any]] = {
    "all": {},
    "tag": {"tag_rules": TAG_RULES},
    "token": {"token_list": ["t0"]},
    "token_list": {"token_list": ["t0"]},
    "account": {"account_list": ["alice"]},
    "account_list": {"account_list": ["alice"]},
    "package_account_push": {"upload_id": 3},
    "package_token_push": {"upload_id": 4},
}
SCHEDULABLE = frozenset({"all", "tag", "package_account_push"})


@dataclass(frozen=True)
class Row:
    """One declared task and what is known of it.

    `kind`: "created" (pushctl sent it, the binding keeps the body), "adopted" (a `pushId`
    already in state), "adopting" (a `pushId` not yet in state), "unsent" (no binding, no
    live task). `drift`: the declared content differs from what was sent (or from live, for
    adopted tasks). `scheduled`: the push declares a send_time (at the live date).
    """

    state: str
    status: LiveStatus
    hours: float
    audience: str = "all"
    kind: str = "created"
    scheduled: bool = False
    drift: bool = False


def push(title: str, audience: str, *, send_at: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "audience_type": audience,
        "message_type": "notify",
        "message": {"title": title, "content": "c"},
        **AUDIENCE_FIELDS[audience],
    }
    if send_at is not None:
        body["send_time"] = send_at.isoformat()
    return body


def declared(name: str, spec: dict[str, Any]) -> DeclaredTask:
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": name, "app": "droid"},
        "spec": spec,
    }
    return DeclaredTask(task=PushTask.model_validate(document), file=f"{name}.yaml")


def live(
    push_id: str, status: LiveStatus, hours: float, title: str, audience: str = "all"
) -> LiveTask:
    return LiveTask(
        push_id=push_id,
        status=status,
        date=NOW + timedelta(hours=hours),
        push_type=REPORTED_PUSH_TYPE[audience],
        message_type="notify",
        title=title,
        content="c",
        expire_time=86400,
        collapse_id=11,
    )


def binding(task: DeclaredTask, push_id: str, *, sent: DeclaredTask | None = None) -> TaskBinding:
    """What apply recorded for `task`; `sent` when an earlier version of it was sent."""
    body = tpns_body(sent or task)
    return TaskBinding(
        address=task.address,
        app="droid",
        push_id=push_id,
        created_by_pushctl=True,
        content_digest=content_digest(body),
        body=body,
    )


World = tuple[list[DeclaredTask], dict[str, LiveTask], StateSnapshot]


def world(rows: list[Row], forgotten: int) -> World:
    """One declared task per row, plus forgotten bindings."""
    desired: list[DeclaredTask] = []
    live_tasks: dict[str, LiveTask] = {}
    bindings: dict[str, TaskBinding] = {}
    for index, row in enumerate(rows):
        name, title, push_id = f"t{index}", f"title {index}", f"{index}00"
        if row.state == "overridden":
            successor = declared(f"t{index}-next", {"state": "active", "push": push("n", "all")})
            desired.append(successor)
            bindings[successor.address] = binding(successor, f"{index}01")
            live_tasks[successor.address] = live(f"{index}01", S.STARTED, -1, "n")
        task, sent = _row_task(row, name, title, push_id)
        desired.append(task)
        if row.kind == "created":
            bindings[task.address] = binding(task, push_id, sent=sent)
        elif row.kind == "adopted":
            bindings[task.address] = TaskBinding(
                address=task.address, app="droid", push_id=push_id, created_by_pushctl=False
            )
        if row.kind != "unsent":
            live_tasks[task.address] = live(push_id, row.status, row.hours, title, row.audience)
    for index in range(forgotten):
        gone = declared(f"gone{index}", {"state": "active", "push": push("g", "all")})
        bindings[gone.address] = binding(gone, f"9{index}")
    return desired, live_tasks, StateSnapshot(lineage="l", serial=1, bindings=bindings)


def _row_task(
    row: Row, name: str, title: str, push_id: str
) -> tuple[DeclaredTask, DeclaredTask | None]:
    """The declared task, and the version that was sent when it differs (drift)."""
    send_at = NOW + timedelta(hours=row.hours) if row.scheduled else None
    spec: dict[str, Any] = {"state": row.state}
    if row.state == "overridden":
        spec["overriddenBy"] = f"{name}-next"
    if row.kind in {"adopted", "adopting"}:
        spec["pushId"] = push_id
    if row.kind in {"created", "unsent"} or row.drift:
        shown = f"{title} (edited)" if row.drift else title
        spec["push"] = push(shown, row.audience, send_at=send_at)
    task = declared(name, spec)
    if not row.drift or row.kind != "created":
        return task, None
    return task, declared(name, {**spec, "push": push(title, row.audience, send_at=send_at)})


audiences = st.sampled_from(sorted(AUDIENCE_FIELDS))


@st.composite
def rows_of(draw: st.DrawFn, *, satisfied: bool) -> Row:
    state = draw(st.sampled_from(sorted(SATISFYING)))
    if satisfied:
        status, hours = draw(st.sampled_from(SATISFYING[state]))
        kinds = ["created", "adopted"] + ([] if state == "active" else ["unsent"])
    else:
        status = draw(st.sampled_from(list(LiveStatus)))
        hours = draw(st.sampled_from(ANY_HOURS))
        kinds = ["created", "adopted", "adopting", "unsent"]
    audience = draw(audiences)
    kind = draw(st.sampled_from(kinds))
    scheduled = audience in SCHEDULABLE and kind in {"created", "unsent"} and draw(st.booleans())
    drift = not satisfied and kind != "unsent" and draw(st.booleans())
    return Row(state, status, hours, audience, kind, scheduled, drift)


satisfied_rows = st.lists(rows_of(satisfied=True), max_size=6)
any_rows = st.lists(rows_of(satisfied=False), max_size=6)


@settings(max_examples=60, deadline=None)
@given(rows=satisfied_rows)
def test_plan_is_empty_when_live_satisfies_desired(
    rows: list[Row],
) -> None:
    desired, live_tasks, snapshot = world(rows, 0)
    result = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    assert result.changes == ()
    assert result.diagnostics == ()
    assert result.is_empty
    assert result.summary["no-op"] == len(desired)


@settings(max_examples=60, deadline=None)
@given(rows=any_rows, forgotten=st.integers(0, 2), data=st.data())
def test_plan_is_deterministic_and_ignores_manifest_order(
    rows: list[Row], forgotten: int, data: st.DataObject
) -> None:
    desired, live_tasks, snapshot = world(rows, forgotten)
    first = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    again = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    shuffled = data.draw(st.permutations(desired))
    reordered = plan(shuffled, dict(reversed(live_tasks.items())), snapshot, NOW, OPTIONS)
    assert first.to_json() == again.to_json() == reordered.to_json()


@settings(max_examples=60, deadline=None)
@given(rows=any_rows, forgotten=st.integers(0, 2))
def test_plan_json_round_trips(rows: list[Row], forgotten: int) -> None:
    desired, live_tasks, snapshot = world(rows, forgotten)
    result = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    assert Plan.from_json(result.to_json()) == result


STATUS_CALLS = {Action.STOP, Action.CANCEL, Action.RECALL}


@settings(max_examples=150, deadline=None)
@given(rows=any_rows, forgotten=st.integers(0, 2))
def test_every_call_goes_to_the_task_it_is_planned_for(rows: list[Row], forgotten: int) -> None:
    desired, live_tasks, snapshot = world(rows, forgotten)
    result = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    pinned = {d.address for d in desired if d.task.spec.push_id is not None}
    for change in result.changes:
        if change.action in STATUS_CALLS:
            [call] = change.api_calls
            assert call.body == {"pushId": live_tasks[change.address].push_id}
        elif change.action is Action.CREATE:
            # Never a second send of a task pushctl already knows, nor of an adopted one.
            assert change.address not in snapshot.bindings
            assert change.address not in pinned
            assert change.address not in live_tasks
        elif change.action in {Action.ADOPT, Action.FORGET}:
            assert change.api_calls == ()


@settings(max_examples=150, deadline=None)
@given(rows=any_rows)
def test_declared_drift_is_never_silent(rows: list[Row]) -> None:
    """Changed content of an active, unsettled task is replaced or reported, created or adopted."""
    desired, live_tasks, snapshot = world(rows, 0)
    result = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    for index, row in enumerate(rows):
        address = f"droid/t{index}"
        if not row.drift or row.state != "active" or live_tasks[address].settled:
            continue
        if row.kind == "adopting":
            continue  # the adopt comes first; drift is judged once the task is in state
        acted = {c.action for c in result.changes if c.address == address}
        # Reported: as undeliverable drift, or as the error that stops the replace (an
        # audience TPNS cannot cancel, a send_time it would refuse).
        reported = {
            d.code for d in result.diagnostics if d.address == address and d.severity == "error"
        }
        assert Action.REPLACE in acted or reported, (row, acted, reported)


@settings(max_examples=150, deadline=None)
@given(rows=any_rows)
def test_stops_cancels_and_recalls_converge_in_one_run(rows: list[Row]) -> None:
    """Once TPNS did what the plan asked, the next plan asks for nothing more of that task."""
    desired, live_tasks, snapshot = world(rows, 0)
    first = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    done = {c.address: c for c in first.changes if c.action in STATUS_CALLS}
    for address, change in done.items():
        assert change.after is not None
        live_tasks[address] = live_tasks[address].model_copy(
            update={"status": LiveStatus(change.after["status"])}
        )
    second = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    again = [c for c in second.changes if c.address in done and c.action in STATUS_CALLS]
    assert again == []
    new_errors = {(d.address, d.code) for d in second.diagnostics if d.severity == "error"} - {
        (d.address, d.code) for d in first.diagnostics if d.severity == "error"
    }
    assert {address for address, _ in new_errors} & set(done) == set()
