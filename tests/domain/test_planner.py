"""The planner's behaviours one by one: creates, adopts, forgets, overrides, deadlines, targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.body import content_digest, tpns_body
from reconciler.domain.capabilities import SETTLED_SATISFYING
from reconciler.domain.manifest.models import DeclaredTask, DesiredState, PushctlConfig, PushTask
from reconciler.domain.plan import (
    Action,
    ApiCall,
    ApiUsage,
    Change,
    Plan,
    order_changes,
    select_targets,
)
from reconciler.domain.planner import PlanOptions, live_fingerprint, plan
from reconciler.records import Intent, LiveStatus, LiveTask, StateSnapshot, TaskBinding

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=BEIJING)
S = LiveStatus


def config(*, recall: bool = False) -> PushctlConfig:
    return PushctlConfig.model_validate(
        {
            "apps": {
                "droid": {
                    "accessId": "1500001048",
                    "platform": "android",
                    "region": "ap-guangzhou",
                    "secretKeyEnv": "DROID_KEY",
                    "capabilities": {"recall": recall},
                },
                "fruit": {
                    "accessId": "1600001048",
                    "platform": "ios",
                    "region": "ap-guangzhou",
                    "secretKeyEnv": "FRUIT_KEY",
                },
            }
        }
    )


def push(title: str = "Sale", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "audience_type": "all",
        "message_type": "notify",
        "message": {"title": title, "content": "Up to 50% off"},
    }
    return {**body, **extra}


def ios_push(title: str = "Sale") -> dict[str, Any]:
    body = push(title, environment="product")
    body["message"]["ios"] = {"aps": {"sound": "default"}}
    return body


def task(name: str, spec: dict[str, Any], *, app: str = "droid", line: int = 1) -> DeclaredTask:
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": name, "app": app},
        "spec": spec,
    }
    return DeclaredTask(
        task=PushTask.model_validate(document), file=f"m/{name}.yaml", line=line, column=3
    )


def live(
    push_id: str, status: LiveStatus, *, hours: float, title: str = "Sale", collapse_id: int = 7
) -> LiveTask:
    return LiveTask(
        push_id=push_id,
        status=status,
        date=NOW + timedelta(hours=hours),
        push_type="all",
        message_type="notify",
        title=title,
        content="Up to 50% off",
        expire_time=86400,
        collapse_id=collapse_id,
    )


def bound(declared: DeclaredTask, push_id: str, **fields: Any) -> TaskBinding:
    body = tpns_body(declared)
    values: dict[str, Any] = {
        "address": declared.address,
        "app": declared.task.metadata.app,
        "push_id": push_id,
        "created_by_pushctl": True,
        "content_digest": content_digest(body),
        "body": body,
    }
    return TaskBinding(**{**values, **fields})


def state(*bindings: TaskBinding, intents: tuple[Intent, ...] = ()) -> StateSnapshot:
    return StateSnapshot(
        lineage="lin-1",
        serial=9,
        bindings={b.address: b for b in bindings},
        open_intents=intents,
    )


def run(
    desired: list[DeclaredTask],
    live_tasks: dict[str, LiveTask] | None = None,
    snapshot: StateSnapshot | None = None,
    *,
    targets: frozenset[str] = frozenset(),
    recall: bool = False,
) -> Plan:
    options = PlanOptions(
        config=config(recall=recall),
        tool_version="1.2.3",
        targets=targets,
        api_usage=ApiUsage(calls={"/v3/statistics/get_push_record": 2}, lower_bound=1),
        input_digest="abc",
    )
    return plan(desired, live_tasks or {}, snapshot or state(), NOW, options)


def codes(result: Plan) -> list[tuple[str, str, str]]:
    return [(d.severity, d.code, d.address) for d in result.diagnostics]


# --- create


def test_create_sends_the_body_with_send_time_as_tpns_wall_time() -> None:
    declared = task("bf", {"state": "active", "push": push(send_time="2026-11-21T01:00:00Z")})
    result = run([declared])
    (change,) = result.changes
    assert change.action is Action.CREATE
    assert change.address == change.new_address == "droid/bf"
    assert [c.path for c in change.api_calls] == ["/v3/push/app"]
    assert change.api_calls[0].body["send_time"] == "2026-11-21 09:00:00"
    assert change.audience == "all devices"
    assert change.before is None
    assert change.after is not None
    assert change.after["status"] == "PUSH_WAIT"
    assert change.after["date"] == "2026-11-21T01:00:00+00:00"
    assert not change.reversible
    # A scheduled create applied after its send_time would go out late: the plan expires then.
    assert change.deadline == result.not_after == datetime(2026, 11, 21, 1, tzinfo=UTC)
    assert {e.path for e in change.diff} >= {"push", "status", "title"}
    assert result.summary["create"] == 1
    assert result.applyable


@pytest.mark.parametrize(
    ("send_time", "code"),
    [
        ("2027-02-19T12:00:01+08:00", "send-time.too-far"),
        ("2026-11-20T11:49:59+08:00", "send-time.past"),
    ],
    ids=["over-90-days-ahead", "over-10-minutes-past"],
)
def test_create_refuses_send_times_tpns_rejects(send_time: str, code: str) -> None:
    result = run([task("bf", {"state": "active", "push": push(send_time=send_time)}, line=4)])
    assert result.changes == ()
    assert codes(result) == [("error", code, "droid/bf")]
    assert (result.diagnostics[0].file, result.diagnostics[0].line) == ("m/bf.yaml", 4)
    assert not result.applyable


@pytest.mark.parametrize(
    "send_time",
    ["2027-02-18T12:00:00+08:00", "2026-11-20T11:50:00+08:00"],
    ids=["exactly-90-days", "exactly-10-minutes-past"],
)
def test_create_accepts_send_times_at_the_limits(send_time: str) -> None:
    result = run([task("bf", {"state": "active", "push": push(send_time=send_time)})])
    assert [c.action for c in result.changes] == [Action.CREATE]


@pytest.mark.parametrize("state_name", ["stopped", "cancelled", "recalled"])
def test_task_never_sent_needs_nothing_to_undo(state_name: str) -> None:
    result = run([task("bf", {"state": state_name, "push": push()})])
    assert result.changes == ()
    assert result.summary["no-op"] == 1


# --- content edits


def test_content_edit_of_a_scheduled_task_is_a_replace_with_a_deadline() -> None:
    old = task("bf", {"state": "active", "push": push("Sale")})
    new = task("bf", {"state": "active", "push": push("Mega sale")})
    result = run([new], {"droid/bf": live("100", S.WAIT, hours=3)}, state(bound(old, "100")))
    (change,) = result.changes
    assert change.action is Action.REPLACE
    assert [(c.path, c.body.get("pushId")) for c in change.api_calls] == [
        ("/v3/push/cancel_timing_task", "100"),
        ("/v3/push/app", None),
    ]
    assert change.api_calls[1].body["message"]["title"] == "Mega sale"
    assert change.new_address == "droid/bf"
    assert change.deadline == NOW + timedelta(hours=3)
    assert result.not_after == change.deadline
    changed = {e.path: (e.old, e.new) for e in change.diff}
    assert changed["push.message.title"] == ("Sale", "Mega sale")
    assert changed["title"] == ("Sale", "Mega sale")


def test_content_edit_of_a_delivered_task_asks_for_an_override() -> None:
    old = task("bf", {"state": "active", "push": push("Sale")})
    new = task("bf", {"state": "active", "push": push("Mega sale")})
    result = run([new], {"droid/bf": live("100", S.FINISHED, hours=-1)}, state(bound(old, "100")))
    assert result.changes == ()
    assert codes(result) == [("error", "content.delivered", "droid/bf")]
    assert "declare an override instead" in result.diagnostics[0].message


def test_active_and_created_is_a_no_op() -> None:
    declared = task("bf", {"state": "active", "push": push()})
    result = run(
        [declared], {"droid/bf": live("100", S.STARTED, hours=-1)}, state(bound(declared, "100"))
    )
    assert result.changes == ()
    assert result.is_empty
    assert result.summary["no-op"] == 1
    assert result.diagnostics == ()


# --- adopt and forget


def test_adopt_records_a_live_task_then_plans_its_desired_state() -> None:
    declared = task("old", {"state": "stopped", "pushId": "555"})
    result = run([declared], {"droid/old": live("555", S.STARTED, hours=-1)})
    stop = ApiCall(path="/v3/push/stop_push_msg", body={"pushId": "555"})
    assert [(c.action, c.reversible, c.api_calls) for c in result.changes] == [
        (Action.ADOPT, True, ()),
        (Action.STOP, False, (stop,)),
    ]
    assert result.changes[0].before is None
    assert result.changes[1].audience == "all (as TPNS reports it)"


def test_adopted_task_already_in_state_is_a_no_op() -> None:
    declared = task("old", {"state": "active", "pushId": "555"})
    binding = TaskBinding(address="droid/old", app="droid", push_id="555", created_by_pushctl=False)
    result = run([declared], {"droid/old": live("555", S.FINISHED, hours=-1)}, state(binding))
    assert result.changes == ()
    assert result.summary["no-op"] == 1


def test_adopt_of_a_push_id_not_found_live_is_an_error() -> None:
    result = run([task("old", {"state": "active", "pushId": "555"})])
    assert result.changes == ()
    assert codes(result) == [("error", "adopt.not-found", "droid/old")]


@pytest.mark.parametrize(
    ("status", "hours", "outcome"),
    [(S.WAIT, 2, "replace"), (S.STARTED, -1, "drift.delivered")],
    ids=["scheduled", "delivered"],
)
def test_adopted_push_drift(status: LiveStatus, hours: float, outcome: str) -> None:
    declared = task("old", {"state": "active", "pushId": "555", "push": push("New title")})
    binding = TaskBinding(address="droid/old", app="droid", push_id="555", created_by_pushctl=False)
    result = run([declared], {"droid/old": live("555", status, hours=hours)}, state(binding))
    if outcome == "replace":
        assert [c.action for c in result.changes] == [Action.REPLACE]
    else:
        assert codes(result) == [("error", outcome, "droid/old")]


def test_forget_leaves_the_live_task_alone() -> None:
    declared = task("bf", {"state": "active", "push": push()})
    result = run([], {}, state(bound(declared, "100", last_status=S.STARTED, date=NOW)))
    (change,) = result.changes
    assert (change.action, change.api_calls, change.reversible) == (Action.FORGET, (), True)
    assert change.push_id == "100"
    assert "never stops a task" in change.reason
    assert change.before is not None
    assert change.before["status"] == "PUSH_STARTED"


def test_rename_forgets_the_old_address_before_adopting_the_new_one() -> None:
    renamed = task("a-new", {"state": "active", "pushId": "555"})
    old = TaskBinding(address="droid/z-old", app="droid", push_id="555", created_by_pushctl=False)
    result = run([renamed], {"droid/a-new": live("555", S.FINISHED, hours=-1)}, state(old))
    assert [(c.action, c.address, c.depends_on) for c in result.changes] == [
        (Action.FORGET, "droid/z-old", ()),
        (Action.ADOPT, "droid/a-new", ("droid/z-old",)),
    ]
    only_new = run(
        [renamed],
        {"droid/a-new": live("555", S.FINISHED, hours=-1)},
        state(old),
        targets=frozenset({"droid/a-new"}),
    )
    assert [c.action for c in only_new.changes] == [Action.FORGET, Action.ADOPT]


# --- overrides


def override_pair(
    status: LiveStatus, *, force: bool = False, app: str = "droid"
) -> tuple[list[DeclaredTask], dict[str, LiveTask], StateSnapshot]:
    body = ios_push if app == "fruit" else push
    old = task("v1", {"state": "overridden", "overriddenBy": "v2", "push": body("Sale")}, app=app)
    new = task("v2", {"state": "active", "forceCollapse": force, "push": body("Sale+")}, app=app)
    hours = 2 if status in {S.INIT, S.WAIT} else -1
    return [new, old], {f"{app}/v1": live("100", status, hours=hours)}, state(bound(old, "100"))


@pytest.mark.parametrize(
    ("force", "outcome"),
    [(False, "keep the old message"), (True, "show both")],
    ids=["forceCollapse-false", "forceCollapse-true"],
)
def test_override_on_android_warns_about_devices_that_cannot_override(
    force: bool, outcome: str
) -> None:
    result = run(*override_pair(S.STARTED, force=force))
    (change,) = result.changes
    assert (change.action, change.address, change.new_address) == (
        Action.OVERRIDE,
        "droid/v1",
        "droid/v2",
    )
    body = change.api_calls[0].body
    assert (body["collapse_id"], body["force_collapse"]) == (7, force)
    assert body["message"]["title"] == "Sale+"
    assert not change.reversible
    (warning,) = change.warnings
    assert "OPPO, vivo and Huawei" in warning
    assert outcome in warning
    assert {e.path: e.new for e in change.diff}["push.message.title"] == "Sale+"


def test_a_renamed_created_task_is_refused_rather_than_sent_twice() -> None:
    old = task("spring", {"state": "active", "push": push("Spring")})
    body = tpns_body(old)
    renamed = task("spring-sale", {"state": "active", "push": push("Spring")})
    binding = bound(old, "100", body=body, content_digest=content_digest(body))
    result = run([renamed], {}, state(binding))
    assert [(c.action, c.address) for c in result.changes] == [(Action.FORGET, "droid/spring")]
    [(code, address, message)] = [(d.code, d.address, d.message) for d in result.diagnostics]
    assert (code, address) == ("create.resends-forgotten", "droid/spring-sale")
    assert 'pushId: "100"' in message
    assert not result.applyable


def test_override_diff_shows_content_not_the_old_task_identity() -> None:
    (change,) = run(*override_pair(S.STARTED)).changes
    paths = {e.path for e in change.diff}
    assert paths == {"title", "push.message.title", "push.collapse_id", "push.force_collapse"}


def test_override_on_ios_has_no_vendor_warning() -> None:
    result = run(*override_pair(S.FINISHED, app="fruit"))
    assert [(c.action, c.warnings) for c in result.changes] == [(Action.OVERRIDE, ())]


def test_overridden_scheduled_task_is_replaced_by_the_new_push() -> None:
    result = run(*override_pair(S.WAIT))
    (change,) = result.changes
    assert (change.action, change.new_address) == (Action.REPLACE, "droid/v2")
    assert "collapse_id" not in change.api_calls[1].body
    assert change.deadline == NOW + timedelta(hours=2)


def test_override_converged_when_old_collapsed_and_new_bound() -> None:
    desired, _, snapshot = override_pair(S.STARTED)
    new_binding = bound(desired[0], "101")
    converged = state(*snapshot.bindings.values(), new_binding)
    live_tasks = {
        "droid/v1": live("100", S.COLLAPSED, hours=-1),
        "droid/v2": live("101", S.STARTED, hours=-1, title="Sale+"),
    }
    result = run(desired, live_tasks, converged)
    assert result.changes == ()
    assert result.diagnostics == ()
    assert result.summary["no-op"] == 2


def test_override_by_a_task_already_sent_is_an_error() -> None:
    desired, live_tasks, snapshot = override_pair(S.STARTED)
    with_new = state(*snapshot.bindings.values(), bound(desired[0], "101"))
    live_tasks["droid/v2"] = live("101", S.STARTED, hours=-1, title="Sale+")
    result = run(desired, live_tasks, with_new)
    assert codes(result) == [("error", "override.target-sent", "droid/v1")]


def test_override_without_collapse_id_is_an_error() -> None:
    desired, _, snapshot = override_pair(S.STARTED)
    result = run(desired, {"droid/v1": live("100", S.STARTED, hours=-1, collapse_id=0)}, snapshot)
    assert codes(result) == [("error", "override.no-collapse-id", "droid/v1")]


def test_override_cycle_is_an_error_on_every_task_of_the_loop() -> None:
    a = task("a", {"state": "overridden", "overriddenBy": "b", "push": push("A")})
    b = task("b", {"state": "overridden", "overriddenBy": "a", "push": push("B")})
    result = run([a, b])
    assert codes(result) == [
        ("error", "override.cycle", "droid/a"),
        ("error", "override.cycle", "droid/b"),
    ]
    assert "droid/a -> droid/b -> droid/a" in result.diagnostics[0].message


def test_override_by_an_undeclared_task_is_an_error() -> None:
    old = task("v1", {"state": "overridden", "overriddenBy": "v9", "push": push()})
    result = run([old], {"droid/v1": live("100", S.STARTED, hours=-1)}, state(bound(old, "100")))
    assert codes(result) == [("error", "override.target-missing", "droid/v1")]


# --- stop, recall, cancel


def test_stop_of_a_finished_task_past_its_offline_window_says_nothing() -> None:
    declared = task("bf", {"state": "stopped", "push": push()})
    finished = live("100", S.FINISHED, hours=-25)
    result = run([declared], {"droid/bf": finished}, state(bound(declared, "100")))
    assert result.changes == ()
    assert result.diagnostics == ()
    assert result.summary["no-op"] == 1


def test_recall_warns_that_it_wakes_apps() -> None:
    declared = task("bf", {"state": "recalled", "push": push()})
    result = run(
        [declared],
        {"droid/bf": live("100", S.FINISHED, hours=-1)},
        state(bound(declared, "100")),
        recall=True,
    )
    (change,) = result.changes
    assert change.action is Action.RECALL
    assert change.api_calls[0].path == "/v3/push/revoke_push_msg"
    assert change.api_calls[0].body == {"pushId": "100"}
    assert any("wakes apps" in w for w in change.warnings)


def test_recall_without_the_capability_is_an_error() -> None:
    declared = task("bf", {"state": "recalled", "push": push()})
    result = run(
        [declared], {"droid/bf": live("100", S.STARTED, hours=-1)}, state(bound(declared, "100"))
    )
    assert codes(result) == [("error", "recall.unavailable", "droid/bf")]
    assert "capabilities.recall" in result.diagnostics[0].message


def test_cancel_of_a_started_task_says_when_it_started_and_what_to_do() -> None:
    declared = task("bf", {"state": "cancelled", "push": push()})
    result = run(
        [declared], {"droid/bf": live("100", S.STARTED, hours=-3)}, state(bound(declared, "100"))
    )
    message = result.diagnostics[0].message
    assert "started at 2026-11-20 09:00" in message
    assert "declare `state: stopped` or an override" in message


def test_not_after_is_the_earliest_deadline() -> None:
    one = task("one", {"state": "cancelled", "push": push()})
    two = task("two", {"state": "cancelled", "push": push()})
    live_tasks = {"droid/one": live("1", S.WAIT, hours=5), "droid/two": live("2", S.WAIT, hours=2)}
    result = run([one, two], live_tasks, state(bound(one, "1"), bound(two, "2")))
    assert [c.deadline for c in result.changes] == [
        NOW + timedelta(hours=5),
        NOW + timedelta(hours=2),
    ]
    assert result.not_after == NOW + timedelta(hours=2)


# --- missing live records, intents, targets, plan metadata


def test_recorded_settled_status_stands_in_for_an_unread_task() -> None:
    declared = task("bf", {"state": "stopped", "push": push()})
    binding = bound(declared, "100", last_status=S.DELETED_PUSH_MSG, date=NOW)
    result = run([declared], {}, state(binding))
    assert (result.changes, result.diagnostics) == ((), ())
    assert result.summary["no-op"] == 1


def test_created_task_without_any_live_or_recorded_status_is_a_warning() -> None:
    declared = task("bf", {"state": "stopped", "push": push()})
    result = run([declared], {}, state(bound(declared, "100")))
    assert result.changes == ()
    assert codes(result) == [("warning", "live.missing", "droid/bf")]
    assert result.applyable


def test_open_intent_is_a_warning_and_the_plan_stays_applyable() -> None:
    declared = task("bf", {"state": "active", "push": push()}, line=7)
    intent = Intent(
        intent_id="i-1",
        run_id="r-1",
        address="droid/bf",
        app="droid",
        action="create",
        body_digest="d",
        body={},
        created_at=NOW,
    )
    result = run([declared], {}, state(intents=(intent,)))
    assert codes(result) == [("warning", "intent.open", "droid/bf")]
    assert result.diagnostics[0].line == 7
    assert "resolves it before any call" in result.diagnostics[0].message
    assert [c.action for c in result.changes] == [Action.CREATE]
    assert result.applyable


def test_targets_keep_only_their_changes_and_diagnostics() -> None:
    one = task("one", {"state": "active", "push": push()})
    two = task("two", {"state": "active", "push": push(send_time="2020-01-01T00:00:00+08:00")})
    result = run([one, two], targets=frozenset({"droid/one"}))
    assert [c.address for c in result.changes] == ["droid/one"]
    assert result.diagnostics == ()
    assert result.applyable


def test_targeting_the_overrider_keeps_the_override_that_sends_it() -> None:
    desired, live_tasks, snapshot = override_pair(S.STARTED)
    result = run(desired, live_tasks, snapshot, targets=frozenset({"droid/v2"}))
    assert [(c.action, c.address) for c in result.changes] == [(Action.OVERRIDE, "droid/v1")]


def test_plan_carries_state_usage_and_a_fingerprint_of_every_live_record() -> None:
    declared = task("bf", {"state": "active", "push": push()})
    stray = live("999", S.FINISHED, hours=-2)
    seen = live("100", S.STARTED, hours=-1)
    result = run(
        [declared], {"droid/bf": seen, "droid/stray": stray}, state(bound(declared, "100"))
    )
    assert (result.state_lineage, result.state_serial) == ("lin-1", 9)
    assert (result.created_at, result.tool_version, result.input_digest) == (NOW, "1.2.3", "abc")
    assert result.api_usage.calls == {"/v3/statistics/get_push_record": 2}
    assert result.live_fingerprints == {
        "100": live_fingerprint(seen),
        "999": live_fingerprint(stray),
    }
    assert live_fingerprint(seen) != live_fingerprint(seen.model_copy(update={"collapse_id": 8}))


def test_unknown_app_is_an_error() -> None:
    result = run([task("bf", {"state": "active", "push": push()}, app="nope")])
    assert codes(result) == [("error", "app.unknown", "nope/bf")]


def test_overrider_that_is_not_active_is_an_error() -> None:
    old = task("v1", {"state": "overridden", "overriddenBy": "v2", "push": push()})
    new = task("v2", {"state": "stopped", "push": push("Sale+")})
    live_tasks = {"droid/v1": live("100", S.STARTED, hours=-1)}
    result = run([old, new], live_tasks, state(bound(old, "100")))
    assert codes(result) == [("error", "override.target-inactive", "droid/v1")]


def test_one_push_cannot_override_two_tasks() -> None:
    one = task("a", {"state": "overridden", "overriddenBy": "new", "push": push("A")})
    two = task("b", {"state": "overridden", "overriddenBy": "new", "push": push("B")})
    new = task("new", {"state": "active", "push": push("N")})
    live_tasks = {
        "droid/a": live("1", S.STARTED, hours=-1),
        "droid/b": live("2", S.STARTED, hours=-1),
    }
    result = run([one, two, new], live_tasks, state(bound(one, "1"), bound(two, "2")))
    assert [(c.action, c.address, c.new_address) for c in result.changes] == [
        (Action.OVERRIDE, "droid/a", "droid/new")
    ]
    assert codes(result) == [("error", "override.target-shared", "droid/b")]


def test_task_collapsed_by_another_push_lets_its_overrider_go_out_plainly() -> None:
    desired, _, snapshot = override_pair(S.COLLAPSED)
    result = run(desired, {"droid/v1": live("100", S.COLLAPSED, hours=-1)}, snapshot)
    assert [(c.action, c.address) for c in result.changes] == [(Action.CREATE, "droid/v2")]
    assert codes(result) == [("warning", "override.settled", "droid/v1")]
    assert result.applyable


def test_overridden_task_never_sent_leaves_the_overrider_to_a_plain_create() -> None:
    old = task("v1", {"state": "overridden", "overriddenBy": "v2", "push": push()})
    new = task("v2", {"state": "active", "push": push("Sale+")})
    result = run([old, new])
    assert [(c.action, c.address) for c in result.changes] == [(Action.CREATE, "droid/v2")]
    assert result.summary["no-op"] == 1


def test_stop_of_a_task_due_but_still_reported_waiting() -> None:
    declared = task("bf", {"state": "stopped", "push": push()})
    due = live("100", S.WAIT, hours=-0.1)
    result = run([declared], {"droid/bf": due}, state(bound(declared, "100")))
    assert [(c.action, c.deadline) for c in result.changes] == [(Action.STOP, None)]


# --- ordering helpers of plan.py


def _bare(address: str, action: Action, depends_on: tuple[str, ...] = ()) -> Change:
    return Change(address=address, app="droid", action=action, reason="r", depends_on=depends_on)


def test_order_puts_dependencies_first_then_address_and_action() -> None:
    changes = [
        _bare("b", Action.CREATE),
        _bare("a", Action.STOP),
        _bare("a", Action.ADOPT, ("z",)),
        _bare("z", Action.FORGET),
    ]
    ordered = order_changes(changes)
    assert [(c.address, c.action) for c in ordered] == [
        ("a", Action.STOP),
        ("b", Action.CREATE),
        ("z", Action.FORGET),
        ("a", Action.ADOPT),
    ]


def test_order_keeps_every_change_of_a_dependency_loop_and_ignores_self_dependencies() -> None:
    changes = [_bare("b", Action.STOP, ("a",)), _bare("a", Action.STOP, ("b", "a"))]
    assert [c.address for c in order_changes(changes)] == ["a", "b"]


def test_select_targets_follows_dependencies() -> None:
    changes = [
        _bare("x", Action.ADOPT, ("y",)),
        _bare("y", Action.FORGET, ("w",)),
        _bare("w", Action.FORGET),
        _bare("q", Action.CREATE),
    ]
    assert [c.address for c in select_targets(changes, frozenset({"x"}))] == ["x", "y", "w"]
    assert select_targets(changes, frozenset()) == changes


def test_plan_carries_the_serial_of_each_app_its_changes_touch() -> None:
    desired = [
        task("bf", {"state": "active", "push": push()}),
        task("tip", {"state": "active", "push": ios_push()}, app="fruit"),
    ]
    snapshot = state().model_copy(update={"app_serials": {"droid": 4, "other": 7}})
    result = run(desired, {}, snapshot)
    assert sorted(c.app for c in result.changes) == ["droid", "fruit"]
    # An app no apply has changed yet has serial 0; apps without changes are left out.
    assert result.state_serials == {"droid": 4, "fruit": 0}
    assert result.state_serial == 9
    targeted = run(desired, {}, snapshot, targets=frozenset({"fruit/tip"}))
    assert targeted.state_serials == {"fruit": 0}
    assert Plan.from_json(result.to_json()).state_serials == {"droid": 4, "fruit": 0}


def test_plan_without_changes_writes_no_state_serials() -> None:
    result = run([], {}, state().model_copy(update={"app_serials": {"droid": 4}}))
    assert result.changes == ()
    assert result.state_serials == {}
    assert "state_serials" not in result.to_json()


@pytest.mark.parametrize(
    ("desired", "status"),
    [(d, s) for d, statuses in SETTLED_SATISFYING.items() for s in sorted(statuses)],
    ids=lambda v: str(v.value),
)
def test_what_refresh_skips_is_what_the_planner_leaves_alone(
    desired: DesiredState, status: LiveStatus
) -> None:
    """Refresh does not re-read these tasks; planning them must change and refuse nothing."""
    spec: dict[str, Any] = {"state": desired.value, "push": push("Sale")}
    if desired is DesiredState.OVERRIDDEN:
        spec["overriddenBy"] = "new"
    declared = [task("old", spec)]
    bindings = [bound(declared[0], "100")]
    if desired is DesiredState.OVERRIDDEN:
        declared.append(task("new", {"state": "active", "push": push("Sale+")}))
        bindings.append(bound(declared[1], "200"))
    live_tasks = {"droid/old": live("100", status, hours=-30)}
    if desired is DesiredState.OVERRIDDEN:
        live_tasks["droid/new"] = live("200", LiveStatus.FINISHED, hours=-1, title="Sale+")
    result = run(declared, live_tasks, state(*bindings), recall=True)
    assert [c.action for c in result.changes] == []
    assert [d.code for d in result.diagnostics if d.severity == "error"] == []
