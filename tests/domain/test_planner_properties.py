"""Properties of the planner: empty when live satisfies desired, deterministic, JSON-stable."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.domain.body import content_digest, tpns_body
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig, PushTask
from reconciler.domain.plan import ApiUsage, Plan
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
    "account_list": {"account_list": ["alice"]},
    "token_list": {"token_list": ["t0"]},
    "package_account_push": {"upload_id": 3},
}


def push(title: str, audience: str) -> dict[str, Any]:
    return {
        "audience_type": audience,
        "message_type": "notify",
        "message": {"title": title, "content": "c"},
        **AUDIENCE_FIELDS[audience],
    }


def declared(name: str, spec: dict[str, Any]) -> DeclaredTask:
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": name, "app": "droid"},
        "spec": spec,
    }
    return DeclaredTask(task=PushTask.model_validate(document), file=f"{name}.yaml")


def live(push_id: str, status: LiveStatus, hours: float, title: str) -> LiveTask:
    return LiveTask(
        push_id=push_id,
        status=status,
        date=NOW + timedelta(hours=hours),
        push_type="all",
        message_type="notify",
        title=title,
        content="c",
        expire_time=86400,
        collapse_id=11,
    )


def binding(task: DeclaredTask, push_id: str) -> TaskBinding:
    body = tpns_body(task)
    return TaskBinding(
        address=task.address,
        app="droid",
        push_id=push_id,
        created_by_pushctl=True,
        content_digest=content_digest(body),
        body=body,
    )


World = tuple[list[DeclaredTask], dict[str, LiveTask], StateSnapshot]


def world(rows: list[tuple[str, LiveStatus, float, str]], forgotten: int) -> World:
    """One created task per row (state, live status, hours, audience), plus forgotten bindings."""
    desired: list[DeclaredTask] = []
    live_tasks: dict[str, LiveTask] = {}
    bindings: dict[str, TaskBinding] = {}
    for index, (state, status, hours, audience) in enumerate(rows):
        name, title = f"t{index}", f"title {index}"
        spec: dict[str, Any] = {"state": state, "push": push(title, audience)}
        if state == "overridden":
            spec["overriddenBy"] = f"t{index}-next"
            successor = declared(f"t{index}-next", {"state": "active", "push": push("n", "all")})
            desired.append(successor)
            bindings[successor.address] = binding(successor, f"{index}01")
            live_tasks[successor.address] = live(f"{index}01", S.STARTED, -1, "n")
        task = declared(name, spec)
        desired.append(task)
        bindings[task.address] = binding(task, f"{index}00")
        live_tasks[task.address] = live(f"{index}00", status, hours, title)
    for index in range(forgotten):
        gone = declared(f"gone{index}", {"state": "active", "push": push("g", "all")})
        bindings[gone.address] = binding(gone, f"9{index}")
    return desired, live_tasks, StateSnapshot(lineage="l", serial=1, bindings=bindings)


audiences = st.sampled_from(["all", "tag", "package_account_push"])
satisfied_rows = st.lists(
    st.sampled_from(sorted(SATISFYING)).flatmap(
        lambda state: st.tuples(st.just(state), st.sampled_from(SATISFYING[state]), audiences).map(
            lambda row: (row[0], row[1][0], row[1][1], row[2])
        )
    ),
    max_size=6,
)
any_rows = st.lists(
    st.tuples(
        st.sampled_from(sorted(SATISFYING)),
        st.sampled_from(list(LiveStatus)),
        st.sampled_from(ANY_HOURS),
        st.sampled_from(sorted(AUDIENCE_FIELDS)),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(rows=satisfied_rows)
def test_plan_is_empty_when_live_satisfies_desired(
    rows: list[tuple[str, LiveStatus, float, str]],
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
    rows: list[tuple[str, LiveStatus, float, str]], forgotten: int, data: st.DataObject
) -> None:
    desired, live_tasks, snapshot = world(rows, forgotten)
    first = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    again = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    shuffled = data.draw(st.permutations(desired))
    reordered = plan(shuffled, dict(reversed(live_tasks.items())), snapshot, NOW, OPTIONS)
    assert first.to_json() == again.to_json() == reordered.to_json()


@settings(max_examples=60, deadline=None)
@given(rows=any_rows, forgotten=st.integers(0, 2))
def test_plan_json_round_trips(
    rows: list[tuple[str, LiveStatus, float, str]], forgotten: int
) -> None:
    desired, live_tasks, snapshot = world(rows, forgotten)
    result = plan(desired, live_tasks, snapshot, NOW, OPTIONS)
    assert Plan.from_json(result.to_json()) == result
