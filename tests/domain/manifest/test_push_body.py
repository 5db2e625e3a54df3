"""validate_push_body: each rule of reference section 4, valid and invalid."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.domain.manifest.push_body import PushBodyError, validate_push_body

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
MESSAGE = {"title": "Sale", "content": "Today only"}


def body(audience: str = "all", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "audience_type": audience,
        "message_type": "notify",
        "message": copy.deepcopy(MESSAGE),
    }
    base.update(fields)
    return base


def problems(value: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    """Path -> messages (joined) of every problem found."""
    with pytest.raises(PushBodyError) as caught:
        validate_push_body(value)
    found: dict[tuple[str | int, ...], str] = {}
    for problem in caught.value.problems:
        found[problem.path] = (found.get(problem.path, "") + " | " + problem.message).lstrip(" |")
    return found


VALID = [
    body("all"),
    body("tag", tag_rules=TAG_RULES),
    body("tag", tag_list={"tags": ["vip", "new"], "op": "AND"}),
    body("token", token_list=["a" * 36]),
    body("token_list", token_list=[f"t{i}" for i in range(1000)], ignore_invalid_token=1),
    body("account", account_list=["u1"]),
    body("account_list", account_list=["u1", "u2"], account_type=1005, account_push_type=1),
    body("package_account_push", upload_id=7, send_time="2026-12-01T09:00:00+08:00"),
    body("package_token_push", upload_id=8),
    body("all", send_time="2026-12-01T01:00:00Z", expire_time=0, push_speed=1000),
    body("all", expire_time=259200, push_speed=50000, multi_pkg=True, plan_id="p1"),
    body("all", group_id="tpns_20261201", tpns_online_push_type=1, environment="dev"),
    body("all", channel_rules=[{"channel": c, "disable": True} for c in ("xg", "hw", "honor")]),
    body(
        "tag",
        tag_rules=TAG_RULES,
        loop_param={
            "startDate": "2026-12-01",
            "endDate": "2026-12-07",
            "loopType": 2,
            "loopDayIndexs": [0, 6],
            "dayTimes": ["09:00:00", "21:30:00"],
        },
    ),
    body(
        "all",
        message={
            **MESSAGE,
            "accept_time": [
                {"start": {"hour": "9", "min": "0"}, "end": {"hour": "23", "min": "59"}}
            ],
            "thread_id": "t",
            "thread_sumtext": "s",
            "xg_media_resources": "https://cdn.example/a.png",
            "xg_media_audio_resources": "https://cdn.example/a.mp3",
            "android": {
                "n_ch_id": "c",
                "n_ch_name": "Deals",
                "xm_ch_id": "x",
                "hw_ch_id": "h",
                "oppo_ch_id": "o",
                "fcm_ch_id": "f",
                "vivo_ch_id": "1",
                "hw_biz_type": 1,
                "hw_category": "IM",
                "hw_importance": 2,
                "n_id": -1,
                "builder_id": 0,
                "badge_type": -2,
                "ring": 1,
                "ring_raw": "bell",
                "vibrate": 0,
                "lights": 1,
                "clearable": 1,
                "icon_type": 1,
                "icon_res": "https://cdn.example/i.png",
                "style_id": 1,
                "small_icon": "s",
                "icon_color": 0,
                "show_type": 1,
                "custom_content": '{"k": "v"}',
                "action": {
                    "action_type": 1,
                    "activity": "com.shop.Main",
                    "aty_attr": {"if": 0, "pf": 0},
                },
            },
        },
    ),
    body(
        "all",
        message={
            **MESSAGE,
            "android": {
                "action": {"action_type": 2, "browser": {"url": "https://x.example", "confirm": 1}}
            },
        },
    ),
    body(
        "all",
        environment="product",
        message={
            **MESSAGE,
            "thread_id": "t",
            "show_type": 2,
            "ios": {
                "aps": {
                    "alert": {"subtitle": "s"},
                    "badge_type": -1,
                    "category": "c",
                    "mutable-content": 1,
                    "sound": "default",
                    "interruption-level": "critical",
                },
                "custom_content": "{}",
            },
        },
    ),
    {
        "audience_type": "all",
        "message_type": "message",
        "environment": "dev",
        "message": {"ios": {"aps": {"content-available": 1}}},
    },
    {"audience_type": "all", "message_type": "message", "message": MESSAGE},
]


@pytest.mark.parametrize("value", VALID)
def test_valid_body_is_returned_unchanged(value: dict[str, Any]) -> None:
    before = copy.deepcopy(value)
    assert validate_push_body(value) is value
    assert value == before


INVALID = [
    # (body, path, fragment of the message)
    (body("everyone"), ("audience_type",), "Input should be 'all', 'tag'"),
    (body(message_type="toast"), ("message_type",), "'notify' or 'message'"),
    ({"audience_type": "all", "message_type": "notify"}, ("message",), "is required"),
    (body("tag"), ("tag_rules",), "audience_type tag needs `tag_rules`"),
    (body("tag", tag_rules=[]), ("tag_rules",), "at least 1 item"),
    (body("token"), ("token_list",), "audience_type token needs `token_list`"),
    (body("token_list", token_list=["a" * 37]), ("token_list", 0), "at most 36 characters"),
    (body("token_list", token_list=["t"] * 1001), ("token_list",), "at most 1000 items"),
    (body("token", token_list=["a", "b"]), ("token_list",), "write `audience_type: token_list`"),
    (body("account"), ("account_list",), "needs `account_list`"),
    (body("account_list", account_list=["u"] * 1001), ("account_list",), "at most 1000 items"),
    (body("account", account_list=["a", "b"]), ("account_list",), "`audience_type: account_list`"),
    (body("package_account_push"), ("upload_id",), "needs `upload_id`"),
    (body("package_token_push", upload_id=0), ("upload_id",), "greater than 0"),
    (body("all", token_list=["t"]), ("token_list",), "not allowed with audience_type all"),
    (body("all", tag_rules=TAG_RULES), ("tag_rules",), "only with tag"),
    (body("all", upload_id=3), ("upload_id",), "only with package_account_push"),
    (body("all", ignore_invalid_token=1), ("ignore_invalid_token",), "only with token"),
    (body("all", account_type=1), ("account_type",), "not allowed with audience_type all"),
    (body("account_list", account_list=["u"], account_type=17), ("account_type",), "unknown"),
    (
        body("token_list", token_list=["t"], send_time="2026-12-01T09:00:00+08:00"),
        ("send_time",),
        "only with all, package_account_push, tag",
    ),
    (body("token_list", token_list=["t"], push_speed=1000), ("push_speed",), "not allowed"),
    (body("all", expire_time=259201), ("expire_time",), "less than or equal to 259200"),
    (body("all", expire_time=-1), ("expire_time",), "greater than or equal to 0"),
    (body("all", expire_time="86400"), ("expire_time",), "valid integer"),
    (body("all", push_speed=999), ("push_speed",), "greater than or equal to 1000"),
    (body("all", push_speed=50001), ("push_speed",), "less than or equal to 50000"),
    (body("all", environment="prod"), ("environment",), "'product' or 'dev'"),
    (body("all", group_id="has space"), ("group_id",), "should match pattern"),
    (body("all", multi_pkg="yes"), ("multi_pkg",), "valid boolean"),
    (
        body("all", channel_rules=[{"channel": "huawei", "disable": True}]),
        ("channel_rules", 0, "channel"),
        "'xg', 'hw'",
    ),
    (body("all", tpns_online_push_type=2), ("tpns_online_push_type",), "0 or 1"),
    (body("all", account_push_type=True), ("account_push_type",), "not true"),
    (body("all", collapse_id=5), ("collapse_id",), "state: overridden"),
    (body("all", force_collapse=True), ("force_collapse",), "spec.forceCollapse: true"),
    (body("all", send_time="2026-12-01 09:00:00"), ("send_time",), '"2026-12-01T09:00:00+08:00"'),
    (body("all", send_time="2026-12-01 09:00"), ("send_time",), '"2026-12-01T09:00:00+08:00"'),
    (body("all", send_time="2026-12-01T09:00:00"), ("send_time",), '"2026-12-01T09:00:00+08:00"'),
    (body("all", send_time="next friday"), ("send_time",), "ISO 8601 with a UTC offset"),
    (body("all", send_time="2026-02-30T09:00:00+08:00"), ("send_time",), "not a real date"),
    (body("all", message={"content": "x"}), ("message", "title"), "`message.title` is required"),
    (body("all", message={"title": "x"}), ("message", "content"), "`message.content` is required"),
    (
        body("all", message={**MESSAGE, "thread_sumtext": "s"}),
        ("message", "thread_sumtext"),
        "needs `thread_id`",
    ),
    (
        body("all", message={**MESSAGE, "xg_media_resources": "ftp://x"}),
        ("message", "xg_media_resources"),
        "should match pattern",
    ),
    (
        body(
            "all",
            message={
                **MESSAGE,
                "accept_time": [
                    {"start": {"hour": "24", "min": "0"}, "end": {"hour": "1", "min": "0"}}
                ],
            },
        ),
        ("message", "accept_time", 0, "start", "hour"),
        "should match pattern",
    ),
    (
        body(
            "all",
            message={
                **MESSAGE,
                "accept_time": [
                    {"start": {"hour": 9, "min": "0"}, "end": {"hour": "1", "min": "0"}}
                ],
            },
        ),
        ("message", "accept_time", 0, "start", "hour"),
        "valid string",
    ),
    (
        body("all", message={**MESSAGE, "android": {"action": {"action_type": 4}}}),
        ("message", "android", "action", "action_type"),
        "1, 2 or 3",
    ),
    (
        body("all", message={**MESSAGE, "android": {"action": {"action_type": True}}}),
        ("message", "android", "action", "action_type"),
        "not true",
    ),
    (
        body("all", message={**MESSAGE, "android": {"action": {"action_type": 2}}}),
        ("message", "android", "action", "browser"),
        "needs `browser`",
    ),
    (
        body("all", message={**MESSAGE, "android": {"action": {"action_type": 3}}}),
        ("message", "android", "action", "intent"),
        "needs `intent`",
    ),
    (
        body(
            "all",
            message={**MESSAGE, "android": {"action": {"action_type": 2, "browser": {"url": "x"}}}},
        ),
        ("message", "android", "action", "browser", "url"),
        "should match pattern",
    ),
    (
        body("all", message={**MESSAGE, "android": {"action": {"aty_attr": {"iff": 1}}}}),
        ("message", "android", "action", "aty_attr", "iff"),
        "did you mean `if`?",
    ),
    (
        body("all", message={**MESSAGE, "android": {"ring": 2}}),
        ("message", "android", "ring"),
        "0 or 1",
    ),
    (
        body("all", message={**MESSAGE, "android": {"vivo_ch_id": 1}}),
        ("message", "android", "vivo_ch_id"),
        "'0' or '1'",
    ),
    (
        body("all", message={**MESSAGE, "android": {"badge_type": 100}}),
        ("message", "android", "badge_type"),
        "less than 100",
    ),
    (
        body("all", message={**MESSAGE, "android": {"n_id": -2}}),
        ("message", "android", "n_id"),
        "greater than or equal to -1",
    ),
    (
        body("all", message={**MESSAGE, "android": {"hw_importance": 3}}),
        ("message", "android", "hw_importance"),
        "1 or 2",
    ),
    (
        body("all", message={**MESSAGE, "android": {"custom_content": {"k": "v"}}}),
        ("message", "android", "custom_content"),
        "valid string",
    ),
    (
        body("all", message={**MESSAGE, "android": {"custom_content": "[1]"}}),
        ("message", "android", "custom_content"),
        "JSON object written as a string",
    ),
    (
        body("all", message={**MESSAGE, "android": {"rign_raw": 1}}),
        ("message", "android", "rign_raw"),
        "did you mean `ring_raw`?",
    ),
    (
        body("all", environment="dev", message={**MESSAGE, "ios": {}}),
        ("message", "ios", "aps"),
        "is required",
    ),
    (
        body("all", message={**MESSAGE, "ios": {"aps": {}}}),
        ("environment",),
        "needs `environment: product`",
    ),
    (
        body(
            "all",
            environment="dev",
            message={**MESSAGE, "ios": {"aps": {"interruption-level": "loud"}}},
        ),
        ("message", "ios", "aps", "interruption-level"),
        "'passive', 'active'",
    ),
    (
        body("all", environment="dev", message={**MESSAGE, "ios": {"aps": {"mutable_content": 1}}}),
        ("message", "ios", "aps", "mutable_content"),
        "did you mean `mutable-content`?",
    ),
    (
        body(
            "all", environment="dev", message={**MESSAGE, "ios": {"aps": {"content-available": 1}}}
        ),
        ("message", "ios", "aps", "content-available"),
        "for `message_type: message` only",
    ),
    (
        body("all", environment="dev", message_type="message", message={"ios": {"aps": {}}}),
        ("message", "ios", "aps", "content-available"),
        "needs `content-available: 1`",
    ),
    (
        body(
            "all",
            environment="dev",
            message_type="message",
            message={"ios": {"aps": {"content-available": 1, "sound": "x"}}},
        ),
        ("message", "ios", "aps", "sound"),
        "cannot carry `sound`",
    ),
    (
        body(
            "all",
            environment="dev",
            message_type="message",
            message={"ios": {"aps": {"content-available": 1, "alert": {}}}},
        ),
        ("message", "ios", "aps", "alert"),
        "cannot carry `alert`",
    ),
    (
        body(
            "all",
            environment="dev",
            message_type="message",
            message={"ios": {"aps": {"content-available": 1, "badge_type": 1}}},
        ),
        ("message", "ios", "aps", "badge_type"),
        "cannot set badge",
    ),
    (
        body(
            "all",
            environment="dev",
            message={**MESSAGE, "ios": {"aps": {}, "custom_content": "nope"}},
        ),
        ("message", "ios", "custom_content"),
        "JSON object",
    ),
    (body("all", messge={}), ("messge",), "did you mean `message`?"),
    (body("all", message={**MESSAGE, "titel": "x"}), ("message", "titel"), "did you mean `title`?"),
    (body("all", platform="android"), ("platform",), "unknown field `platform`"),
    (
        body("tag", tag_rules=[{**TAG_RULES[0], "operator": "XOR"}]),
        ("tag_rules", 0, "operator"),
        "'AND' or 'OR'",
    ),
    (
        body("tag", tag_rules=[{**TAG_RULES[0], "is_not": "false"}]),
        ("tag_rules", 0, "is_not"),
        "valid boolean",
    ),
    (
        body(
            "tag",
            tag_rules=[
                {
                    **TAG_RULES[0],
                    "tag_items": [{**TAG_RULES[0]["tag_items"][0], "tag_type": "xg_auto_verison"}],
                }
            ],
        ),
        ("tag_rules", 0, "tag_items", 0, "tag_type"),
        "'xg_user_define'",
    ),
    (
        body(
            "tag",
            tag_rules=[
                {**TAG_RULES[0], "tag_items": [{**TAG_RULES[0]["tag_items"][0], "tags": []}]}
            ],
        ),
        ("tag_rules", 0, "tag_items", 0, "tags"),
        "at least 1 item",
    ),
    (body("tag", tag_list={"tags": ["a"], "op": "NOT"}), ("tag_list", "op"), "'AND' or 'OR'"),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-12-01",
                "endDate": "2026-11-01",
                "loopType": 1,
                "loopDayIndexs": [0],
                "dayTimes": ["09:00:00"],
            },
        ),
        ("loop_param", "endDate"),
        "before startDate",
    ),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-13-01",
                "endDate": "2026-12-01",
                "loopType": 1,
                "loopDayIndexs": [0],
                "dayTimes": ["09:00:00"],
            },
        ),
        ("loop_param", "startDate"),
        "not a date",
    ),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-12-01",
                "endDate": "2026-12-02",
                "loopType": 2,
                "loopDayIndexs": [7],
                "dayTimes": ["09:00:00"],
            },
        ),
        ("loop_param", "loopDayIndexs", 0),
        "use 0..6",
    ),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-12-01",
                "endDate": "2026-12-02",
                "loopType": 3,
                "loopDayIndexs": [0],
                "dayTimes": ["09:00:00"],
            },
        ),
        ("loop_param", "loopDayIndexs", 0),
        "use 1..31",
    ),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-12-01",
                "endDate": "2026-12-02",
                "loopType": 1,
                "loopDayIndexs": [1],
                "dayTimes": ["09:00:00"],
            },
        ),
        ("loop_param", "loopDayIndexs", 0),
        "use 0..0",
    ),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-12-01",
                "endDate": "2026-12-02",
                "loopType": 4,
                "loopDayIndexs": [0],
                "dayTimes": ["9:00"],
            },
        ),
        ("loop_param", "loopType"),
        "1, 2 or 3",
    ),
    (
        body(
            "all",
            loop_param={
                "startDate": "2026-12-01",
                "endDate": "2026-12-02",
                "loopType": 1,
                "loopDayIndexs": [0],
                "dayTimes": ["9:00"],
            },
        ),
        ("loop_param", "dayTimes", 0),
        "should match pattern",
    ),
    (
        body("token_list", token_list=["t"], loop_param={}),
        ("loop_param",),
        "not allowed with audience_type token_list",
    ),
    (
        body("token", token_list=["a" * 40, "b"]),
        ("token_list",),
        "write `audience_type: token_list`",
    ),
]


@pytest.mark.parametrize(("value", "path", "fragment"), INVALID)
def test_invalid_body_names_the_field(
    value: dict[str, Any], path: tuple[str | int, ...], fragment: str
) -> None:
    found = problems(value)
    assert path in found, found
    assert fragment in found[path]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(body("all", collapse_id=1, messge=1, send_time="2026-12-01 09:00:00"))
    assert set(found) == {("collapse_id",), ("messge",), ("send_time",)}


def test_error_text_carries_the_path_inside_push() -> None:
    with pytest.raises(PushBodyError) as caught:
        validate_push_body(body(message={**MESSAGE, "android": {"action": {"action_type": 9}}}))
    assert str(caught.value).startswith("push.message.android.action.action_type: ")


def test_push_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(PushBodyError, match="must be a mapping"):
        validate_push_body(["audience_type"])  # type: ignore[arg-type]


def test_a_misspelt_required_key_is_one_error_not_two() -> None:
    body = {
        "audience_type": "all",
        "mesage_type": "notify",
        "message": {"title": "t", "content": "c"},
    }
    with pytest.raises(PushBodyError) as caught:
        validate_push_body(body)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 1
    assert "did you mean `message_type`" in messages[0]
