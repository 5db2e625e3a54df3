"""/v3/statistics/get_push_record: single form, range form, filters, paging, horizon, errors."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from reconciler.emulator import EmulatorCore, ManualClock

from .conftest import ANDROID, IOS, START, Tpns, notify

BEIJING = timezone(timedelta(hours=8))
RECORD = "/v3/statistics/get_push_record"
TAG_RULES = [
    {
        "operator": "OR",
        "is_not": False,
        "tag_items": [
            {
                "tags": ["guangdong", "hunan"],
                "is_not": False,
                "tags_operator": "OR",
                "items_operator": "OR",
                "tag_type": "xg_auto_province",
            }
        ],
    }
]


async def test_single_record_has_every_documented_field(tpns: Tpns) -> None:
    message = {
        "title": "Sale",
        "content": "Now",
        "xg_media_resources": "https://img.example/p.png",
        "android": {"ring": 1, "action": {"action_type": 1}},
    }
    body = notify("tag", tag_rules=TAG_RULES, message=message, multi_pkg=True, group_id="g1")
    push_id = (await tpns.push(body))["push_id"]
    reply = await tpns.post(RECORD, {"pushId": push_id})
    assert reply["retCode"] == 0
    assert reply["errMsg"] == "NO_ERROR"
    assert reply["pushRecordData"] == [
        {
            "date": "2026-11-20 10:00:00",
            "pushId": push_id,
            "title": "Sale",
            "content": "Now",
            "status": "PUSH_STARTED",
            "pushType": "tag",
            "messageType": "notify",
            "environment": "product",
            "expireTime": 86400,
            "xgMediaResources": "https://img.example/p.png",
            "multiPkg": True,
            "targetList": None,
            "collapseID": 1001,
            "tagSet": {
                "op": "OR",
                "tagWithType": [
                    {"tagTypeName": "xg_auto_province", "tagValue": "guangdong"},
                    {"tagTypeName": "xg_auto_province", "tagValue": "hunan"},
                ],
            },
            "uploadId": 0,
            "pushConfig": {"android": message["android"], "ios": None},
            "groupId": "g1",
            "source": "api",
        }
    ]


async def test_reported_push_types_and_targets(tpns: Tpns, clock: ManualClock) -> None:
    expected = {
        "token": ("token_list", ["t" * 36]),
        "account": ("account_list", ["alice"]),
        "package_token_push": ("package_token_push", None),
        "package_account_push": ("package_account_push", None),
    }
    for audience, (push_type, targets) in expected.items():
        body = await tpns.package(audience) if audience.startswith("package_") else notify(audience)
        record = await tpns.record((await tpns.push(body))["push_id"])
        assert (record["pushType"], record["targetList"]) == (push_type, targets)
    clock.advance(1)
    legacy = await tpns.record((await tpns.push(notify("tag")))["push_id"])
    assert legacy["tagSet"] == {
        "op": "OR",
        "tagWithType": [{"tagTypeName": "xg_user_define", "tagValue": "vip"}],
    }
    ios = await tpns.record(
        (await tpns.push(notify("token", environment="dev"), IOS))["push_id"], IOS
    )
    assert ios["environment"] == "dev"


async def test_unknown_foreign_or_expired_id_is_1008015(
    tpns: Tpns, core: EmulatorCore, clock: ManualClock
) -> None:
    assert (await tpns.post(RECORD, {"pushId": "123"}))["retCode"] == 1008015
    ios_id = core.seed_task(IOS.access_id, notify("token", environment="dev"))
    assert (await tpns.post(RECORD, {"pushId": ios_id}))["retCode"] == 1008015
    old = core.seed_task(
        ANDROID.access_id, notify(), created_at=START - timedelta(days=30, seconds=1)
    )
    edge = core.seed_task(ANDROID.access_id, notify(), created_at=START - timedelta(days=30))
    assert (await tpns.post(RECORD, {"pushId": old}))["retCode"] == 1008015
    assert (await tpns.post(RECORD, {"pushId": edge}))["retCode"] == 0


async def _seed_days(core: EmulatorCore) -> list[str]:
    ids = []
    for day in range(5):  # 2026-11-16 .. 2026-11-20, one notify + one message each
        at = START - timedelta(days=4 - day)
        ids.append(core.seed_task(ANDROID.access_id, notify("tag"), created_at=at))
        message = notify("token_list", message_type="message")
        ids.append(core.seed_task(ANDROID.access_id, message, created_at=at + timedelta(minutes=1)))
    return ids


async def test_range_is_newest_first_with_count(tpns: Tpns, core: EmulatorCore) -> None:
    ids = await _seed_days(core)
    reply = await tpns.post(RECORD, {"startDate": "2026-11-17", "endDate": "2026-11-19"})
    assert reply["retCode"] == 0
    assert reply["count"] == 6
    assert [r["pushId"] for r in reply["pushRecordData"]] == list(reversed(ids[2:8]))


@pytest.mark.parametrize(
    ("filters", "count"),
    [
        ({"msgType": "notify"}, 5),
        ({"msgType": "message"}, 5),
        ({"pushType": "tag"}, 5),
        ({"pushType": "token"}, 5),
        ({"pushType": "token_list"}, 5),
        ({"pushType": "account"}, 0),
        ({"pushType": "all"}, 0),
        ({"pushType": "tag", "msgType": "message"}, 0),
        ({"msgType": "", "pushType": ""}, 10),
    ],
)
async def test_range_filters(
    tpns: Tpns, core: EmulatorCore, filters: dict[str, Any], count: int
) -> None:
    await _seed_days(core)
    reply = await tpns.post(RECORD, {"startDate": "2026-11-01", "endDate": "2026-11-30", **filters})
    assert reply["count"] == count


async def test_paging(tpns: Tpns, core: EmulatorCore, clock: ManualClock) -> None:
    for n in range(250):
        core.seed_task(ANDROID.access_id, notify("token"), created_at=START - timedelta(seconds=n))
    dates = {"startDate": "2026-11-20", "endDate": "2026-11-20"}
    default = await tpns.post(RECORD, dates)
    assert (default["count"], len(default["pushRecordData"])) == (250, 20)
    capped = await tpns.post(RECORD, {**dates, "limit": 500})
    assert len(capped["pushRecordData"]) == 200
    tail = await tpns.post(RECORD, {**dates, "offset": 240, "limit": 20})
    assert len(tail["pushRecordData"]) == 10
    assert tail["pushRecordData"][-1]["pushId"] == "100000250"  # seeded last, dated earliest
    as_text = await tpns.post(RECORD, {**dates, "offset": "245", "limit": "2"})
    assert len(as_text["pushRecordData"]) == 2
    assert (await tpns.post(RECORD, {**dates, "offset": -1}))["retCode"] == 1008007
    assert (await tpns.post(RECORD, {**dates, "limit": "many"}))["retCode"] == 1008007


async def test_range_excludes_tasks_beyond_the_horizon(tpns: Tpns, core: EmulatorCore) -> None:
    core.seed_task(ANDROID.access_id, notify("token"), created_at=START - timedelta(days=31))
    recent = core.seed_task(
        ANDROID.access_id, notify("token"), created_at=START - timedelta(days=29)
    )
    oldest = (START - timedelta(days=30)).astimezone(BEIJING).date().isoformat()
    reply = await tpns.post(RECORD, {"startDate": oldest, "endDate": "2026-12-31"})
    assert [r["pushId"] for r in reply["pushRecordData"]] == [recent]


async def test_range_starting_before_the_horizon_is_refused(tpns: Tpns) -> None:
    reply = await tpns.post(RECORD, {"startDate": "2026-01-01", "endDate": "2026-12-31"})
    assert reply["retCode"] == 1008007
    assert "older than the last 30 days" in reply["errMsg"]


async def test_scheduled_tasks_are_dated_by_send_time(tpns: Tpns, core: EmulatorCore) -> None:
    core.seed_task(ANDROID.access_id, notify("tag", send_time="2026-11-25 09:00:00"))
    assert (await tpns.post(RECORD, {"startDate": "2026-11-20", "endDate": "2026-11-20"}))[
        "count"
    ] == 0
    assert (await tpns.post(RECORD, {"startDate": "2026-11-25", "endDate": "2026-11-25"}))[
        "count"
    ] == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, 1008002),
        ({"startDate": "2026-11-20"}, 1008002),
        ({"startDate": "20261120", "endDate": "2026-11-20"}, 1008016),
        ({"startDate": "2026-11-20", "endDate": "2026-13-01"}, 1008016),
        ({"startDate": "2026-11-21", "endDate": "2026-11-20"}, 1008016),
        ({"startDate": "2026-11-20", "endDate": "2026-11-20", "msgType": "sms"}, 1008007),
        ({"startDate": "2026-11-20", "endDate": "2026-11-20", "pushType": "everyone"}, 1008007),
        ({"pushId": "abc"}, 1008007),
    ],
)
async def test_query_errors(tpns: Tpns, body: dict[str, Any], code: int) -> None:
    assert (await tpns.post(RECORD, body))["retCode"] == code


async def test_unparseable_query_is_1008001_in_camel_case(tpns: Tpns) -> None:
    assert await tpns.post(RECORD, b"nope") == {
        "retCode": 1008001,
        "errMsg": "paramter parse error: the body is not JSON "
        "(Expecting value: line 1 column 1 (char 0))",
    }
