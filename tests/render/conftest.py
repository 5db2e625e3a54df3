"""Fixture plans for the render tests: one change of every action, fixed datetimes.

Snapshots are plain files (`.txt`, `.md`, `.json`) so a reviewer reads them as a user would.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from reconciler.domain.plan import (
    Action,
    ApiCall,
    ApiUsage,
    Change,
    Diagnostic,
    DiffEntry,
    Plan,
    summarize,
)

CST = timezone(timedelta(hours=8))
CREATED_AT = datetime(2026, 11, 22, 10, 30, tzinfo=CST)
GET_PUSH_RECORD = "/v3/statistics/get_push_record"


class TextSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "txt"


class MarkdownSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "md"


class JsonSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "json"


@pytest.fixture
def text_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TextSnapshot)


@pytest.fixture
def markdown_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(MarkdownSnapshot)


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JsonSnapshot)


def _tag_push(title: str, content: str, send_time: str) -> dict[str, object]:
    return {
        "audience_type": "tag",
        "tag_rules": [{"tag_items": [{"tags": ["shoes"], "is_not": False, "tags_operator": "OR"}]}],
        "message_type": "notify",
        "message": {"title": title, "content": content},
        "send_time": send_time,
        "expire_time": 86400,
    }


def _every_action() -> tuple[Change, ...]:
    spring_sale = _tag_push("Spring sale", "Up to 50% off shoes", "2026-12-01 09:00:00")
    teaser_v2 = _tag_push("Black Friday starts now", "All deals are live", "")
    digest = _tag_push("Your weekly digest", "5 new arrivals, 2 price drops", "2026-12-03 08:00:00")
    return (
        Change(
            address="shop-android/spring-sale",
            app="shop-android",
            action=Action.CREATE,
            new_address="shop-android/spring-sale",
            api_calls=(ApiCall(path="/v3/push/app", body=spring_sale),),
            reason="declared in manifests/android/spring-sale.yaml and not yet created",
            after=spring_sale,
            reversible=True,
            audience="tag shoes (about 120,000 devices)",
        ),
        Change(
            address="shop-android/bf-teaser",
            app="shop-android",
            action=Action.OVERRIDE,
            push_id="3895624686",
            new_address="shop-android/bf-teaser-v2",
            api_calls=(
                ApiCall(
                    path="/v3/push/app",
                    body={**teaser_v2, "collapse_id": 1048576001, "force_collapse": False},
                ),
            ),
            reason="declared overridden by bf-teaser-v2; the task started at 2026-11-22 09:00",
            before={"message": {"title": "Black Friday teaser", "content": "Deals start soon"}},
            after={
                "message": {"title": "Black Friday starts now", "content": "All deals are live"}
            },
            diff=(
                DiffEntry(
                    op="change",
                    path="message.title",
                    old="Black Friday teaser",
                    new="Black Friday starts now",
                ),
                DiffEntry(
                    op="change",
                    path="message.content",
                    old="Deals start soon",
                    new="All deals are live",
                ),
            ),
            audience="tag shoes",
            warnings=(
                "OPPO, vivo and Huawei EMUI < 10 devices keep the old notification "
                "(forceCollapse: false)",
            ),
        ),
        Change(
            address="shop-ios/weekly-digest",
            app="shop-ios",
            action=Action.REPLACE,
            push_id="3895624700",
            new_address="shop-ios/weekly-digest",
            api_calls=(
                ApiCall(path="/v3/push/cancel_timing_task", body={"pushId": "3895624700"}),
                ApiCall(path="/v3/push/app", body=digest),
            ),
            reason="content changed and the task is scheduled, not started",
            before={"message": {"content": "4 new arrivals"}},
            after={"message": {"content": "5 new arrivals, 2 price drops"}},
            diff=(
                DiffEntry(
                    op="change",
                    path="message.content",
                    old="4 new arrivals",
                    new="5 new arrivals, 2 price drops",
                ),
                DiffEntry(op="add", path="message.ios.aps.badge_type", new=-1),
                DiffEntry(op="remove", path="message.ios.custom", old={"ref": "digest-41"}),
            ),
            audience="all devices",
            deadline=datetime(2026, 12, 3, 8, 0, tzinfo=CST),
        ),
        Change(
            address="shop-android/flash-sale",
            app="shop-android",
            action=Action.STOP,
            push_id="3895624650",
            api_calls=(ApiCall(path="/v3/push/stop_push_msg", body={"pushId": "3895624650"}),),
            reason="declared stopped; live status PUSH_STARTED, offline delivery still running",
            audience="tag flash-sale",
        ),
        Change(
            address="shop-android/wrong-price",
            app="shop-android",
            action=Action.RECALL,
            push_id="3895624655",
            api_calls=(ApiCall(path="/v3/push/revoke_push_msg", body={"pushId": "3895624655"}),),
            reason="declared recalled; live status PUSH_FINISHED",
            audience="all devices",
            warnings=("recall wakes every app that received the message to remove it",),
        ),
        Change(
            address="shop-ios/cyber-monday",
            app="shop-ios",
            action=Action.CANCEL,
            push_id="3895624720",
            api_calls=(ApiCall(path="/v3/push/cancel_timing_task", body={"pushId": "3895624720"}),),
            reason="declared cancelled; scheduled for 2026-11-30 09:00 and not started",
            audience="tag ios-vip",
            deadline=datetime(2026, 11, 30, 9, 0, tzinfo=CST),
        ),
        Change(
            address="shop-android/legacy-welcome",
            app="shop-android",
            action=Action.ADOPT,
            push_id="3895620001",
            reason="pushId 3895620001 is declared and not yet in state",
            reversible=True,
        ),
        Change(
            address="shop-android/old-promo",
            app="shop-android",
            action=Action.FORGET,
            push_id="3895610002",
            reason="in state but no longer in any manifest",
            reversible=True,
        ),
        Change(
            address="shop-android/evergreen",
            app="shop-android",
            action=Action.NO_OP,
            push_id="3895600003",
            reason="live task satisfies the manifest",
            reversible=True,
        ),
    )


def _diagnostics() -> tuple[Diagnostic, ...]:
    return (
        Diagnostic(
            severity="warning",
            code="override.partial-collapse",
            address="shop-android/bf-teaser",
            file="manifests/android/bf-teaser.yaml",
            line=9,
            column=3,
            message="OPPO and vivo devices keep the old notification; set forceCollapse: true "
            "to deliver the new one to them as well",
        ),
        Diagnostic(
            severity="error",
            code="cancel.started",
            address="shop-ios/launch",
            file="manifests/ios/launch.yaml",
            line=7,
            column=10,
            message="task launch started at 2026-11-22 09:00 +08:00; it can no longer be "
            "cancelled - declare `state: stopped` or an override",
        ),
    )


@pytest.fixture
def full_plan() -> Plan:
    changes = _every_action()
    return Plan(
        tool_version="0.1.0",
        created_at=CREATED_AT,
        not_after=datetime(2026, 11, 30, 9, 0, tzinfo=CST),
        applyable=False,
        summary=summarize(changes),
        changes=changes,
        diagnostics=_diagnostics(),
        api_usage=ApiUsage(calls={GET_PUSH_RECORD: 3}, lower_bound=3),
        input_digest="sha256:0d5f6c1e",
        state_lineage="7f3c2a9e-lineage",
        state_serial=12,
        live_fingerprints={"3895624686": "sha256:aa01", "3895624700": "sha256:bb02"},
    )


@pytest.fixture
def empty_plan() -> Plan:
    return Plan(
        tool_version="0.1.0",
        created_at=CREATED_AT,
        summary=summarize(()),
        api_usage=ApiUsage(calls={GET_PUSH_RECORD: 1}, lower_bound=1),
        state_lineage="7f3c2a9e-lineage",
        state_serial=12,
    )


@pytest.fixture
def diagnostics() -> tuple[Diagnostic, ...]:
    return _diagnostics()
