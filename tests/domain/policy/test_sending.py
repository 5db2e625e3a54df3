"""Quiet hours against the planning clock: a push without send_time goes out when applied."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig, PushTask
from reconciler.domain.plan import Action, ApiCall, Change, Plan
from reconciler.domain.policy.rules import POLICY_CODES
from reconciler.domain.policy.sending import with_sending_policy
from reconciler.records import LiveStatus, TaskBinding

CST = timezone(timedelta(hours=8))
QUIET = {"quietHours": {"zone": "Asia/Shanghai", "start": "22:00", "end": "08:00"}}
LATE = datetime(2026, 11, 28, 23, 10, tzinfo=CST)
NOON = datetime(2026, 11, 28, 12, 0, tzinfo=CST)


def push(**fields: Any) -> dict[str, Any]:
    return {
        "audience_type": "all",
        "message_type": "notify",
        "message": {"title": "t", "content": "c"},
        **fields,
    }


def plan_of(*changes: Change) -> Plan:
    return Plan(tool_version="0", created_at=NOON, changes=changes)


def sending(action: Action, body: dict[str, Any], *, name: str = "sale") -> Change:
    return Change(
        address=f"shop-android/{name}",
        app="shop-android",
        action=action,
        new_address=f"shop-android/{name}",
        api_calls=(ApiCall(path="/v3/push/app", body=body),),
        reason="declared",
    )


def declared() -> dict[str, DeclaredTask]:
    task = PushTask.model_validate(
        {
            "apiVersion": "pushctl/v1",
            "kind": "PushTask",
            "metadata": {"name": "sale", "app": "shop-android"},
            "spec": {"state": "active", "push": push()},
        }
    )
    return {"shop-android/sale": DeclaredTask(task=task, file="m.yaml", line=4, column=1)}


APPS = {
    "shop-android": {
        "accessId": "1500001048",
        "platform": "android",
        "region": "ap-guangzhou",
        "secretKeyEnv": "K",
    }
}


def check(
    plan: Plan, *, now: datetime, bindings: dict[str, TaskBinding] | None = None, **policy: Any
) -> Plan:
    config = PushctlConfig.model_validate({"apps": APPS, "policy": policy})
    return with_sending_policy(plan, config, now=now, declared=declared(), bindings=bindings or {})


def test_an_immediate_push_planned_inside_quiet_hours_blocks_the_plan() -> None:
    checked = check(plan_of(sending(Action.CREATE, push())), now=LATE, **QUIET)
    (found,) = checked.diagnostics
    assert (found.code, found.severity, found.file, found.line) == (
        "policy.quiet-hours",
        "error",
        "m.yaml",
        4,
    )
    assert (
        "now (2026-11-28 23:10 Asia/Shanghai) is inside the quiet hours 22:00-08:00"
        in found.message
    )
    assert not checked.applyable


def test_outside_quiet_hours_the_plan_is_unchanged() -> None:
    plan = plan_of(sending(Action.CREATE, push()))
    assert check(plan, now=NOON, **QUIET) == plan


@pytest.mark.parametrize(
    "change",
    [
        sending(Action.CREATE, push(send_time="2026-11-29 10:00:00")),
        sending(Action.STOP, push()).model_copy(update={"api_calls": ()}),
    ],
    ids=["scheduled", "not-a-send"],
)
def test_only_immediate_sends_are_checked(change: Change) -> None:
    plan = plan_of(change)
    assert check(plan, now=LATE, **QUIET) == plan


def test_as_a_warning_the_plan_stays_applyable() -> None:
    checked = check(
        plan_of(sending(Action.OVERRIDE, push())),
        now=LATE,
        **QUIET,
        severity={"quietHours": "warning"},
    )
    assert [d.severity for d in checked.diagnostics] == ["warning"]
    assert checked.applyable


def sent(name: str, moment: datetime, *, audience: str = "all", **fields: Any) -> TaskBinding:
    return TaskBinding(
        address=f"shop-android/{name}",
        app="shop-android",
        push_id="1",
        created_by_pushctl=True,
        date=moment,
        body=push(audience_type=audience),
        **fields,
    )


ONE_A_DAY = {"maxBroadcastsPerDay": 1}


def test_a_second_broadcast_within_a_day_of_a_sent_one_is_refused() -> None:
    bindings = {"shop-android/monday": sent("monday", NOON - timedelta(hours=20))}
    checked = check(
        plan_of(sending(Action.CREATE, push())), now=NOON, bindings=bindings, **ONE_A_DAY
    )
    (found,) = checked.diagnostics
    assert (found.code, found.severity, found.address) == (
        "policy.broadcasts",
        "error",
        "shop-android/sale",
    )
    assert "one of 2 pushes to all devices of app shop-android within 24 hours" in found.message
    assert "shop-android/monday (created for 2026-11-27 16:00)" in found.message
    assert found.code in POLICY_CODES
    assert not checked.applyable


@pytest.mark.parametrize(
    "binding",
    [
        sent("old", NOON - timedelta(hours=25)),
        sent("tagged", NOON - timedelta(hours=1), audience="tag"),
        sent("cancelled", NOON - timedelta(hours=1), last_status=LiveStatus.CANCELED),
    ],
    ids=["a-day-ago", "not-all-devices", "never-sent"],
)
def test_sends_that_do_not_count(binding: TaskBinding) -> None:
    plan = plan_of(sending(Action.CREATE, push()))
    assert check(plan, now=NOON, bindings={binding.address: binding}, **ONE_A_DAY) == plan


def test_two_planned_broadcasts_a_day_apart_pass_and_the_same_day_fail() -> None:
    apart = plan_of(
        sending(Action.CREATE, push()),
        sending(Action.CREATE, push(send_time="2026-11-29 12:00:00"), name="tomorrow"),
    )
    assert check(apart, now=NOON, **ONE_A_DAY) == apart
    close = plan_of(
        sending(Action.CREATE, push()),
        sending(Action.CREATE, push(send_time="2026-11-29 11:59:00"), name="tomorrow"),
    )
    found = check(close, now=NOON, **ONE_A_DAY).diagnostics
    assert [d.address for d in found] == ["shop-android/sale", "shop-android/tomorrow"]


def test_a_replaced_push_no_longer_counts() -> None:
    bindings = {"shop-android/sale": sent("sale", NOON + timedelta(hours=2))}
    plan = plan_of(sending(Action.REPLACE, push()))
    assert check(plan, now=NOON, bindings=bindings, **ONE_A_DAY) == plan
