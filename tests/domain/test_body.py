"""body.py: the /v3/push/app body, send_time in TPNS wall time, digest and audience."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.domain.body import audience_of, content_digest, send_time_of, tpns_body
from reconciler.domain.manifest.models import DeclaredTask, PushTask


def declared(push: dict[str, Any] | None, *, push_id: str | None = None) -> DeclaredTask:
    spec: dict[str, Any] = {"state": "active"}
    if push is not None:
        spec["push"] = push
    if push_id is not None:
        spec["pushId"] = push_id
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": "bf", "app": "shop"},
        "spec": spec,
    }
    return DeclaredTask(task=PushTask.model_validate(document), file="bf.yaml")


def body(**extra: Any) -> dict[str, Any]:
    return {
        "audience_type": "all",
        "message_type": "notify",
        "message": {"title": "T", "content": "C"},
        **extra,
    }


@pytest.mark.parametrize(
    ("send_time", "utc_offset", "wall"),
    [
        ("2026-12-01T09:00:00+08:00", "+08:00", "2026-12-01 09:00:00"),
        ("2026-12-01T01:00:00Z", "+08:00", "2026-12-01 09:00:00"),
        ("2026-11-30T20:00:00-05:00", "+08:00", "2026-12-01 09:00:00"),
        ("2026-12-01T09:00:00+08:00", "+00:00", "2026-12-01 01:00:00"),
        ("2026-12-01T00:30:00+08:00", "-03:30", "2026-11-30 13:00:00"),
        ("2026-12-01T09:00:00+08:00", "+05:45", "2026-12-01 06:45:00"),
    ],
    ids=["same-zone", "utc", "new-york", "to-utc", "newfoundland-day-before", "nepal"],
)
def test_send_time_becomes_tpns_wall_time(send_time: str, utc_offset: str, wall: str) -> None:
    result = tpns_body(declared(body(send_time=send_time)), utc_offset=utc_offset)
    assert result["send_time"] == wall


def test_body_is_the_push_verbatim_and_the_manifest_is_not_changed() -> None:
    push = body(send_time="2026-12-01T01:00:00Z", expire_time=3600)
    task = declared(push)
    result = tpns_body(task)
    assert result == {**push, "send_time": "2026-12-01 09:00:00"}
    assert task.task.spec.push is not None
    assert task.task.spec.push["send_time"] == "2026-12-01T01:00:00Z"
    assert "collapse_id" not in result


@pytest.mark.parametrize("force", [False, True])
def test_override_adds_collapse_id_and_force_collapse(force: bool) -> None:
    result = tpns_body(declared(body()), collapse_id=42, force_collapse=force)
    assert (result["collapse_id"], result["force_collapse"]) == (42, force)


def test_task_without_push_has_no_body() -> None:
    with pytest.raises(ValueError, match="declares no `push`"):
        tpns_body(declared(None, push_id="123"))


def test_send_time_of() -> None:
    moment = send_time_of(declared(body(send_time="2026-12-01T09:00:00+08:00")))
    assert moment == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert moment is not None
    assert moment.utcoffset() == timedelta(hours=8)
    assert send_time_of(declared(body())) is None
    assert send_time_of(declared(None, push_id="1")) is None


def test_digest_ignores_key_order_and_override_fields_but_not_content() -> None:
    one = {"a": 1, "message": {"title": "T", "content": "C"}}
    same = {"message": {"content": "C", "title": "T"}, "a": 1}
    assert content_digest(one) == content_digest(same)
    assert content_digest(one) == content_digest({**one, "collapse_id": 9, "force_collapse": True})
    assert content_digest(one) != content_digest({**one, "a": 2})
    assert len(content_digest(one)) == 64


TAG_ITEM = {
    "tags": ["vip", "beta"],
    "is_not": False,
    "tags_operator": "OR",
    "items_operator": "AND",
    "tag_type": "xg_user_define",
}


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"audience_type": "all"}, "all devices"),
        (
            {
                "audience_type": "tag",
                "tag_rules": [
                    {"tag_items": [TAG_ITEM], "operator": "OR", "is_not": False},
                    {
                        "tag_items": [{**TAG_ITEM, "tags": ["churned"], "is_not": True}],
                        "operator": "AND",
                        "is_not": True,
                    },
                ],
            },
            "tag rules: ([vip OR beta]) AND NOT (NOT [churned])",
        ),
        ({"audience_type": "tag", "tag_list": {"tags": ["a", "b"], "op": "AND"}}, "tags: a AND b"),
        (
            {"audience_type": "account_list", "account_list": ["a", "b", "c"]},
            "1 account list (3 accounts)",
        ),
        ({"audience_type": "token_list", "token_list": ["t"]}, "1 token list (1 token)"),
        ({"audience_type": "account", "account_list": ["a"]}, "1 account"),
        ({"audience_type": "package_account_push", "upload_id": 12}, "account package (upload 12)"),
        ({"audience_type": "package_token_push", "upload_id": 5}, "token package (upload 5)"),
    ],
    ids=[
        "all",
        "tag-rules",
        "tag-list",
        "accounts",
        "tokens",
        "account",
        "account-pkg",
        "token-pkg",
    ],
)
def test_audience_of(fields: dict[str, Any], text: str) -> None:
    assert audience_of(fields) == text
