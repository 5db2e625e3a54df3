"""Every desired state against every live status, platform and audience type.

The expectations are written out below as a table of (desired state, live status) for an
Android tag push, then adjusted by the documented TPNS limits per platform and audience type
(reference sections 6.3, 9 and 10 item 7). Each row asserts one action or one diagnostic code.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.body import content_digest, tpns_body
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
            "shop-android": {
                "accessId": "1500001048",
                "platform": "android",
                "region": "ap-guangzhou",
                "secretKeyEnv": "SHOP_ANDROID_SECRET_KEY",
                "capabilities": {"recall": True},
            },
            "shop-ios": {
                "accessId": "1600001048",
                "platform": "ios",
                "region": "ap-guangzhou",
                "secretKeyEnv": "SHOP_IOS_SECRET_KEY",
                "capabilities": {"recall": True},
            },
        }
    }
)
APP_OF = {"android": "shop-android", "ios": "shop-ios"}
AUDIENCE_FIELDS: dict[str, dict[str, Any]] = {
    "all": {},
    "tag": {
        "tag_rules": [
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
    },
    "account_list": {"account_list": ["alice", "bob", "carol"]},
    "token_list": {"token_list": ["0123456789abcdef0123456789abcdef0123"]},
    "package_account_push": {"upload_id": 42},
}
REPORTED = {"account_list": "account_list", "token_list": "token_list"}
SCHEDULABLE = {"all", "tag", "package_account_push"}

# What an Android tag task, created by pushctl, needs in each (desired, live) combination.
SETTLED = [S.FAILED, S.CANCELED, S.DELETED, S.REVOKED, S.COLLAPSED, S.DELETED_PUSH_MSG]
EXPECTED: dict[str, dict[LiveStatus, str]] = {
    "active": {
        S.INIT: "no-op",
        S.WAIT: "no-op",
        S.STARTED: "no-op",
        S.FINISHED: "no-op",
        **dict.fromkeys(SETTLED, "reactivate.settled"),
    },
    "stopped": {
        S.INIT: "cancel",
        S.WAIT: "cancel",
        S.STARTED: "stop",
        S.FINISHED: "stop",
        **dict.fromkeys(SETTLED, "no-op"),
    },
    "cancelled": {
        S.INIT: "cancel",
        S.WAIT: "cancel",
        S.STARTED: "cancel.started",
        S.FINISHED: "cancel.started",
        S.FAILED: "no-op",
        S.CANCELED: "no-op",
        S.DELETED: "no-op",
        S.REVOKED: "cancel.started",
        S.COLLAPSED: "cancel.started",
        S.DELETED_PUSH_MSG: "cancel.started",
    },
    "recalled": {
        S.INIT: "cancel",
        S.WAIT: "cancel",
        S.STARTED: "recall",
        S.FINISHED: "recall",
        S.FAILED: "no-op",
        S.CANCELED: "no-op",
        S.DELETED: "no-op",
        S.REVOKED: "no-op",
        S.COLLAPSED: "recall.collapsed",
        S.DELETED_PUSH_MSG: "recall",
    },
    "overridden": {
        S.INIT: "replace",
        S.WAIT: "replace",
        S.STARTED: "override",
        S.FINISHED: "override",
        **dict.fromkeys(SETTLED, "no-op"),
    },
}


def expected_outcome(state: str, status: LiveStatus, platform: str, audience: str) -> str:
    """The table's answer, narrowed by what TPNS allows per platform and audience type."""
    outcome = EXPECTED[state][status]
    if outcome == "cancel" and audience not in SCHEDULABLE:
        return "cancel.audience"
    if outcome == "stop" and platform == "ios":
        return "stop.ios"
    if outcome == "stop" and audience == "token_list":
        return "stop.audience"
    if outcome == "recall" and audience == "token_list":
        return "recall.audience"
    if outcome in {"replace", "override"} and audience in {"account_list", "token_list"}:
        return "override.audience"
    return outcome


def push_body(platform: str, audience: str, title: str) -> dict[str, Any]:
    message: dict[str, Any] = {"title": title, "content": "Up to 50% off"}
    body: dict[str, Any] = {"audience_type": audience, "message_type": "notify"}
    if platform == "ios":
        message["ios"] = {"aps": {"sound": "default"}}
        body["environment"] = "product"
    return {**body, **AUDIENCE_FIELDS[audience], "message": message, "expire_time": 86400}


def declared(name: str, app: str, spec: dict[str, Any], line: int) -> DeclaredTask:
    task = PushTask.model_validate(
        {
            "apiVersion": "pushctl/v1",
            "kind": "PushTask",
            "metadata": {"name": name, "app": app},
            "spec": spec,
        }
    )
    return DeclaredTask(task=task, file=f"manifests/{name}.yaml", line=line, column=1)


def scenario(state: str, status: LiveStatus, platform: str, audience: str) -> Plan:
    app = APP_OF[platform]
    spec: dict[str, Any] = {"state": state, "push": push_body(platform, audience, "Sale")}
    if state == "overridden":
        spec["overriddenBy"] = "sale-v2"
    desired = [declared("sale", app, spec, 3)]
    if state == "overridden":
        new_push = push_body(platform, audience, "Sale extended")
        desired.append(declared("sale-v2", app, {"state": "active", "push": new_push}, 20))
    scheduled = status in {S.INIT, S.WAIT}
    date = NOW + timedelta(hours=1) if scheduled else NOW - timedelta(hours=1)
    live = LiveTask(
        push_id="100",
        status=status,
        date=date,
        push_type=REPORTED.get(audience, audience),
        message_type="notify",
        title="Sale",
        content="Up to 50% off",
        expire_time=86400,
        collapse_id=0 if audience in REPORTED else 7,
    )
    binding = TaskBinding(
        address=f"{app}/sale",
        app=app,
        push_id="100",
        created_by_pushctl=True,
        last_status=status,
        date=date,
        content_digest=content_digest(tpns_body(desired[0])),
    )
    state_snapshot = StateSnapshot(lineage="L", serial=4, bindings={binding.address: binding})
    options = PlanOptions(config=CONFIG, tool_version="0.1.0", api_usage=ApiUsage())
    return plan(desired, {binding.address: live}, state_snapshot, NOW, options)


ROWS = [
    pytest.param(
        state,
        status,
        platform,
        audience,
        expected_outcome(state, status, platform, audience),
        id=f"{state}-{status.value}-{platform}-{audience}",
    )
    for state in EXPECTED
    for status in LiveStatus
    for platform in ("android", "ios")
    for audience in AUDIENCE_FIELDS
]


@pytest.mark.parametrize(("state", "status", "platform", "audience", "expected"), ROWS)
def test_desired_state_against_live_status(
    state: str, status: LiveStatus, platform: str, audience: str, expected: str
) -> None:
    result = scenario(state, status, platform, audience)
    address = f"{APP_OF[platform]}/sale"
    at_task = [change for change in result.changes if change.address == address]
    errors = [d for d in result.diagnostics if d.severity == "error"]
    actions = {action.value for action in Action}
    if expected == "no-op":
        assert at_task == []
        assert errors == []
        assert result.summary["no-op"] >= 1
    elif expected in actions:
        assert [change.action.value for change in at_task] == [expected]
        assert errors == []
        assert result.applyable
    else:
        assert at_task == []
        assert [(d.code, d.address, d.file, d.line) for d in errors] == [
            (expected, address, "manifests/sale.yaml", 3)
        ]
        assert not result.applyable


@pytest.mark.parametrize("status", list(LiveStatus), ids=lambda s: s.value)
def test_overrider_is_sent_once_either_inside_the_override_or_on_its_own(
    status: LiveStatus,
) -> None:
    result = scenario("overridden", status, "android", "tag")
    pushes = [
        (change.address, change.new_address)
        for change in result.changes
        if any(call.path == "/v3/push/app" for call in change.api_calls)
    ]
    if status in {S.INIT, S.WAIT, S.STARTED, S.FINISHED}:
        assert pushes == [("shop-android/sale", "shop-android/sale-v2")]
    else:
        assert pushes == [("shop-android/sale-v2", "shop-android/sale-v2")]
