"""Planner rules that mutation testing showed no test would defend.

Each test names the mutant it kills: an `expireTime` TPNS did not report read as "no offline
window" (a stop never sent), and drift of an adopted task's content (not its title) ignored.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.body import content_digest, tpns_body
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig, PushTask
from reconciler.domain.plan import Action, ApiCall, Plan
from reconciler.domain.planner import PlanOptions, plan
from reconciler.records import Intent, LiveStatus, LiveTask, StateSnapshot, TaskBinding

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
S = LiveStatus
CONFIG = PushctlConfig.model_validate(
    {
        "apps": {
            "droid": {
                "accessId": "1500001048",
                "platform": "android",
                "region": "ap-guangzhou",
                "secretKeyEnv": "DROID_KEY",
            }
        }
    }
)
ADOPTED = TaskBinding(address="droid/old", app="droid", push_id="555", created_by_pushctl=False)


def task(spec: dict[str, Any]) -> DeclaredTask:
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": "old", "app": "droid"},
        "spec": spec,
    }
    return DeclaredTask(task=PushTask.model_validate(document), file="m/old.yaml")


def live(status: LiveStatus, *, hours: float, expire_time: int = 0) -> LiveTask:
    return LiveTask(
        push_id="555",
        status=status,
        date=NOW + timedelta(hours=hours),
        push_type="all",
        message_type="notify",
        title="Sale",
        content="Up to 50% off",
        expire_time=expire_time,
    )


def run(declared: DeclaredTask, observed: LiveTask) -> Plan:
    snapshot = StateSnapshot(lineage="l", serial=1, bindings={ADOPTED.address: ADOPTED})
    options = PlanOptions(config=CONFIG, tool_version="1.0.0")
    return plan([declared], {"droid/old": observed}, snapshot, NOW, options)


@pytest.mark.parametrize(
    ("hours", "expire_time", "stops"),
    [
        (-2, 0, True),  # no expireTime reported: TPNS's default day still holds messages
        (-23.5, 0, True),
        (-24.5, 0, False),  # the default day is over
        (-2, 3600, False),  # an hour's window, closed an hour ago
        (-0.5, 3600, True),
    ],
)
def test_finished_task_is_stopped_while_its_offline_window_is_open(
    hours: float, expire_time: int, stops: bool
) -> None:
    result = run(
        task({"state": "stopped", "pushId": "555"}),
        live(S.FINISHED, hours=hours, expire_time=expire_time),
    )
    stop = ApiCall(path="/v3/push/stop_push_msg", body={"pushId": "555"})
    expected = [(Action.STOP, (stop,))] if stops else []
    assert [(c.action, c.api_calls) for c in result.changes] == expected
    assert result.diagnostics == ()
    assert result.summary["no-op"] == (0 if stops else 1)


def adopted_push(content: str) -> dict[str, Any]:
    return {
        "audience_type": "all",
        "message_type": "notify",
        "message": {"title": "Sale", "content": content},
    }


def test_adopted_task_whose_content_alone_differs_is_drift() -> None:
    declared = task({"state": "active", "pushId": "555", "push": adopted_push("Now 70% off")})
    result = run(declared, live(S.STARTED, hours=-1))
    assert [(d.severity, d.code) for d in result.diagnostics] == [("error", "drift.delivered")]
    assert result.diagnostics[0].message.startswith("the live title/content differ from `push`")
    scheduled = run(declared, live(S.WAIT, hours=2))
    assert [c.action for c in scheduled.changes] == [Action.REPLACE]


def test_adopted_task_with_the_same_title_and_content_is_a_no_op() -> None:
    declared = task({"state": "active", "pushId": "555", "push": adopted_push("Up to 50% off")})
    result = run(declared, live(S.STARTED, hours=-1))
    assert result.changes == ()
    assert result.diagnostics == ()
    assert result.summary["no-op"] == 1


# --- The recorded view: a settled task refresh did not re-read is judged from state.


def recorded_binding(status: LiveStatus, *, push_id: str = "555", **fields: Any) -> TaskBinding:
    return ADOPTED.model_copy(
        update={"push_id": push_id, "last_status": status, "date": NOW - timedelta(hours=1)}
        | fields
    )


def run_recorded(declared: DeclaredTask, binding: TaskBinding) -> Plan:
    snapshot = StateSnapshot(lineage="l", serial=1, bindings={binding.address: binding})
    return plan([declared], {}, snapshot, NOW, PlanOptions(config=CONFIG, tool_version="1.0.0"))


def test_settled_task_not_read_again_is_judged_from_state() -> None:
    declared = task({"state": "stopped", "pushId": "555"})
    result = run_recorded(declared, recorded_binding(S.DELETED_PUSH_MSG))
    assert (result.changes, result.diagnostics, result.summary["no-op"]) == ((), (), 1)


def test_recorded_view_of_another_push_id_is_not_used() -> None:
    declared = task({"state": "stopped", "pushId": "556"})
    result = run_recorded(declared, recorded_binding(S.DELETED_PUSH_MSG))
    assert [(d.code, d.address) for d in result.diagnostics] == [("adopt.not-found", "droid/old")]


def test_recorded_view_keeps_title_and_content_from_the_declared_push() -> None:
    """An adopted task in state: its recorded title/content match the manifest: no drift."""
    declared = task({"state": "active", "pushId": "555", "push": adopted_push("Up to 50% off")})
    binding = recorded_binding(S.WAIT, date=NOW + timedelta(hours=2))
    result = run_recorded(declared, binding)
    assert (result.changes, result.diagnostics, result.summary["no-op"]) == ((), (), 1)


def test_recorded_view_reports_the_push_type_of_the_sent_body() -> None:
    """A stop refused for the audience type of the body pushctl sent (token_list)."""
    body = {**adopted_push("x"), "audience_type": "token", "token_list": ["t0"]}
    declared = task({"state": "stopped", "pushId": "555"})
    binding = recorded_binding(S.STARTED, body=body)
    result = run_recorded(declared, binding)
    assert [d.code for d in result.diagnostics] == ["stop.audience"]
    assert "audience_type 'token_list' cannot be terminated" in result.diagnostics[0].message


# --- Time zone, forgets, adopts and open intents.

UTC_CONFIG = CONFIG.model_copy(update={"tpns_utc_offset": "+00:00"})


def created(send_time: str) -> DeclaredTask:
    push = {**adopted_push("c"), "send_time": send_time}
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": "new", "app": "droid"},
        "spec": {"state": "active", "push": push},
    }
    return DeclaredTask(task=PushTask.model_validate(document), file="m/new.yaml")


def test_send_time_is_written_in_the_configured_tpns_zone() -> None:
    declared = created("2026-11-21T09:00:00+08:00")
    options = PlanOptions(config=UTC_CONFIG, tool_version="1.0.0")
    result = plan([declared], {}, StateSnapshot(lineage="l", serial=1), NOW, options)
    [change] = result.changes
    assert change.api_calls[0].body["send_time"] == "2026-11-21 01:00:00"


def test_bound_task_is_compared_in_the_configured_tpns_zone() -> None:
    declared = created("2026-11-21T09:00:00+08:00")
    body = tpns_body(declared, utc_offset="+00:00")
    binding = TaskBinding(
        address="droid/new",
        app="droid",
        push_id="700",
        created_by_pushctl=True,
        content_digest=content_digest(body),
        body=body,
    )
    options = PlanOptions(config=UTC_CONFIG, tool_version="1.0.0")
    observed = live(S.WAIT, hours=13).model_copy(update={"push_id": "700", "content": "c"})
    snapshot = StateSnapshot(lineage="l", serial=1, bindings={"droid/new": binding})
    result = plan([declared], {"droid/new": observed}, snapshot, NOW, options)
    assert (result.changes, result.diagnostics, result.summary["no-op"]) == ((), (), 1)


def test_binding_without_body_or_digest_is_no_drift() -> None:
    declared = created("2026-11-21T09:00:00+08:00")
    binding = TaskBinding(address="droid/new", app="droid", push_id="700", created_by_pushctl=True)
    observed = live(S.WAIT, hours=13).model_copy(update={"push_id": "700"})
    snapshot = StateSnapshot(lineage="l", serial=1, bindings={"droid/new": binding})
    result = plan([declared], {"droid/new": observed}, snapshot, NOW, PlanOptions(CONFIG, "1"))
    assert (result.changes, result.diagnostics) == ((), ())


def test_forget_shows_what_state_knew_as_its_before() -> None:
    binding = recorded_binding(S.FINISHED, collapse_id=4)
    snapshot = StateSnapshot(lineage="l", serial=1, bindings={binding.address: binding})
    result = plan([], {}, snapshot, NOW, PlanOptions(CONFIG, "1"))
    [change] = result.changes
    before = {
        "status": "PUSH_FINISHED",
        "date": (NOW - timedelta(hours=1)).isoformat(),
        "push_id": "555",
        "collapse_id": 4,
    }
    assert (change.action, change.before, change.after) == (Action.FORGET, before, None)
    assert {entry.path for entry in change.diff} == set(before)
    assert {entry.op for entry in change.diff} == {"remove"}


def test_adopt_shows_the_live_task_it_records() -> None:
    declared = task({"state": "active", "pushId": "555"})
    snapshot = StateSnapshot(lineage="l", serial=1)
    result = plan(
        [declared],
        {"droid/old": live(S.FINISHED, hours=-1)},
        snapshot,
        NOW,
        PlanOptions(CONFIG, "1"),
    )
    [adopt] = result.changes
    assert adopt.action is Action.ADOPT
    assert adopt.after is not None
    assert (adopt.after["push_id"], adopt.after["status"]) == ("555", "PUSH_FINISHED")


def test_resend_of_a_forgotten_push_is_found_past_other_forgotten_bindings() -> None:
    declared = created("2026-11-21T09:00:00+08:00")
    sent = tpns_body(declared)
    other = TaskBinding(
        address="droid/a-adopted", app="droid", push_id="1", created_by_pushctl=False, body=sent
    )
    gone = TaskBinding(
        address="droid/z-gone",
        app="droid",
        push_id="2",
        created_by_pushctl=True,
        content_digest=content_digest(sent),
        body=sent,
    )
    snapshot = StateSnapshot(lineage="l", serial=1, bindings={b.address: b for b in (other, gone)})
    result = plan([declared], {}, snapshot, NOW, PlanOptions(CONFIG, "1"))
    assert [d.code for d in result.diagnostics] == ["create.resends-forgotten"]
    assert "droid/z-gone (push 2)" in result.diagnostics[0].message


def test_open_intents_are_warned_in_order_even_for_undeclared_addresses() -> None:
    intents = tuple(
        Intent(
            intent_id=intent_id,
            run_id="r1",
            address=address,
            app="droid",
            action="create",
            body_digest="d",
            body={},
            created_at=NOW,
        )
        for intent_id, address in (("i2", "droid/b"), ("i1", "droid/b"), ("i3", "droid/a"))
    )
    snapshot = StateSnapshot(lineage="l", serial=1, open_intents=intents)
    result = plan([], {}, snapshot, NOW, PlanOptions(CONFIG, "1"))
    assert [(d.address, d.code, d.file, d.line) for d in result.diagnostics] == [
        ("droid/a", "intent.open", "", 0),
        ("droid/b", "intent.open", "", 0),
        ("droid/b", "intent.open", "", 0),
    ]
    assert all("recorded no outcome" in d.message for d in result.diagnostics)
