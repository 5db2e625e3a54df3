"""Quiet hours against the planning clock: a push without send_time goes out when applied."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.manifest.models import DeclaredTask, PushTask
from reconciler.domain.plan import Action, ApiCall, Change, Plan
from reconciler.domain.policy.sending import with_sending_policy
from reconciler.domain.policy.settings import NotificationPolicy

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


def sending(action: Action, body: dict[str, Any]) -> Change:
    return Change(
        address="shop-android/sale",
        app="shop-android",
        action=action,
        new_address="shop-android/sale",
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


def check(plan: Plan, *, now: datetime, **policy: Any) -> Plan:
    return with_sending_policy(
        plan, NotificationPolicy.model_validate(policy), now=now, declared=declared()
    )


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
