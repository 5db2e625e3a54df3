"""The preview: each channel's cut of the title and content, refusals, the tap, the reach."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.domain.plan import Action, ApiCall, Change, Plan
from reconciler.render.audience import reach_in_words
from reconciler.render.markdown import escape_markdown
from reconciler.render.preview import (
    preview_change,
    preview_markdown_blocks,
    preview_text_sections,
)
from reconciler.render.wording import summary_line

TITLE_34 = "Flash sale: 50% off until midnight"


def body(**fields: Any) -> dict[str, Any]:
    message = {"title": TITLE_34, "content": "Tap to see today's deals."}
    message.update(fields.pop("message", {}))
    return {"audience_type": "all", "message_type": "notify", "message": message, **fields}


def change(push: dict[str, Any], *, action: Action = Action.CREATE, **fields: Any) -> Change:
    return Change(
        address="shop-android/sale",
        app="shop-android",
        action=action,
        api_calls=(ApiCall(path="/v3/push/app", body=push),),
        reason="declared",
        **fields,
    )


def views(push: dict[str, Any]) -> dict[str, tuple[str, str, str | None]]:
    preview = preview_change(change(push))
    assert preview is not None
    return {v.channels: (v.title, v.content, v.refused) for v in preview.views}


def test_each_android_channel_cuts_or_refuses_per_the_limits() -> None:
    assert views(body()) == {
        "Android (TPNS)": ("Flash sale: 50% off…", "Tap to see today's deals.", None),
        "Mi, Huawei, vivo": (TITLE_34, "Tap to see today's deals.", None),
        "Meizu, OPPO": ("", "", "title 34 > 32 characters"),
    }


def test_content_over_huawei_80_is_refused_there_only() -> None:
    found = views(body(message={"title": "Sale", "content": "x" * 81}))
    assert found["Huawei"] == ("", "", "content 81 > 80 characters")
    # The TPNS channel has no content limit; Mi and vivo allow 128, Meizu 100, OPPO 200.
    assert found["Android (TPNS), Mi, Meizu, OPPO, vivo"] == ("Sale", "x" * 81, None)


def test_an_empty_title_is_refused_by_every_vendor() -> None:
    found = views(body(message={"title": ""}))
    assert found["Mi, Huawei, Meizu, OPPO, vivo"] == ("", "", "empty title")


def test_ios_banner_cuts_content_at_62_and_the_centre_at_110() -> None:
    text = "y" * 120
    found = views(body(environment="product", message={"content": text, "ios": {"aps": {}}}))
    assert found["iOS notification centre"][1] == "y" * 109 + "…"
    assert found["iOS banner"][1] == "y" * 61 + "…"


@pytest.mark.parametrize(
    ("action", "tap"),
    [
        (
            {"action_type": 2, "browser": {"url": "https://a.example.com/x"}},
            "opens https://a.example.com/x in the browser",
        ),
        ({"action_type": 3, "intent": "shop://deals"}, "opens shop://deals"),
        ({"action_type": 1, "activity": "com.shop.Deals"}, "opens the app at com.shop.Deals"),
        ({}, "opens the app"),
    ],
)
def test_the_tap(action: dict[str, Any], tap: str) -> None:
    preview = preview_change(change(body(message={"android": {"action": action}})))
    assert preview is not None
    assert preview.new.tap == tap


def test_an_in_app_message_is_not_drawn() -> None:
    preview = preview_change(change(body(message_type="message")))
    assert preview is not None
    assert preview.views == ()
    assert preview.not_shown is not None


def test_only_changes_that_send_are_previewed() -> None:
    stop = change(body(), action=Action.STOP).model_copy(
        update={"api_calls": (ApiCall(path="/v3/push/stop_push_msg", body={"pushId": "1"}),)}
    )
    assert preview_change(stop) is None
    assert preview_text_sections([stop]) == []


@pytest.mark.parametrize(
    ("force", "note"),
    [
        (False, "they keep the old message and never get the new one"),
        (True, "they show both messages"),
    ],
)
def test_an_override_shows_old_beside_new_and_who_keeps_which(force: bool, note: str) -> None:
    old = {"push": body(message={"title": "Old title"})}
    override = change(
        body(force_collapse=force, collapse_id=7),
        action=Action.OVERRIDE,
        before=old,
        new_address="shop-android/sale-v2",
    )
    (section,) = preview_text_sections([override])
    assert "shop-android/sale-v2 (android)" in section
    assert "replaces: 'Old title' / \"Tap to see today's deals.\"" in section
    assert note in section


@pytest.mark.parametrize(
    ("push", "words"),
    [
        ({"audience_type": "all"}, "all devices of app shop-android"),
        (
            {
                "audience_type": "tag",
                "tag_rules": [
                    {"tag_items": [{"tags": ["a", "b"], "tags_operator": "AND", "is_not": False}]},
                    {
                        "operator": "AND",
                        "is_not": False,
                        "tag_items": [{"tags": ["c"], "is_not": True}],
                    },
                ],
            },
            "devices tagged a and b and not c",
        ),
        (
            {"audience_type": "tag", "tag_list": {"tags": ["x", "y"], "op": "OR"}},
            "devices tagged x or y",
        ),
        (
            {"audience_type": "account_list", "account_list": ["u1", "u2", "u3"]},
            "3 accounts (the latest device of each)",
        ),
        (
            {"audience_type": "account", "account_list": ["u1"], "account_push_type": 1},
            "1 account (every device of each)",
        ),
        ({"audience_type": "token_list", "token_list": ["t1", "t2"]}, "2 devices by token"),
        (
            {"audience_type": "package_account_push", "upload_id": 42},
            "the accounts in uploaded package 42 (the latest device of each)",
        ),
    ],
)
def test_reach_in_words(push: dict[str, Any], words: str) -> None:
    assert reach_in_words(push, app="shop-android") == words


def _plan(*changes: Change) -> Plan:
    return Plan(tool_version="0", created_at=datetime(2026, 11, 28, tzinfo=UTC), changes=changes)


def test_the_summary_names_changes_that_reach_all_devices() -> None:
    tagged = change(body(audience_type="tag", tag_list={"tags": ["a"], "op": "OR"}))
    assert "Reaches all devices" not in summary_line(_plan(tagged))
    everyone = change(body()).model_copy(update={"address": "shop-android/everyone"})
    assert summary_line(_plan(tagged, everyone)).endswith(
        "Reaches all devices: shop-android/everyone."
    )


def test_markdown_escapes_what_the_manifest_wrote() -> None:
    push = body(message={"title": "| @team <b>", "content": "ok"})
    blocks = preview_markdown_blocks([change(push)], escape=escape_markdown)
    table = blocks[1]
    assert "\\| @&#8203;team &lt;b&gt;" in table
    assert "<b>" not in table
