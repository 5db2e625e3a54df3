"""/v3/push/app: envelopes, the validation of reference section 4, send_time and collapse_id."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from reconciler.emulator import EmulatorCore, ManualClock

from .conftest import IOS, START, Tpns, notify

BEIJING = timedelta(hours=8)
#: A real /v3/push/app answer, as recorded in the official PHP SDK's source.
REAL_ANSWER = json.loads(
    '{"seq":0,"push_id":"572728156","ret_code":0,"environment":"product","err_msg":"NO_ERROR",'
    '"err_msg_zh":"","result":"{}","invalid_targe_list":[]}'
)


def wall(offset_seconds: float) -> str:
    """A TPNS send_time that far from the test start (Beijing wall time)."""
    return (START + BEIJING + timedelta(seconds=offset_seconds)).strftime("%Y-%m-%d %H:%M:%S")


async def test_success_envelope_and_numeric_string_push_id(tpns: Tpns) -> None:
    reply = await tpns.push(notify("tag", seq=99))
    assert reply == {
        "seq": 99,
        "push_id": "100000001",
        "ret_code": 0,
        "environment": "product",
        "err_msg": "NO_ERROR",
        "err_msg_zh": "",
        "result": "{}",
        "invalid_targe_list": [],
    }
    assert list(reply) == list(REAL_ANSWER)  # the key order of a recorded TPNS answer
    second = await tpns.push(notify("account_list"))
    assert second["push_id"] == "100000002"
    assert second["seq"] == 0


async def test_ios_push_echoes_environment_and_token_result(tpns: Tpns) -> None:
    body = notify("token", environment="dev", token_list=["a" * 36, "b" * 36])
    reply = await tpns.push(body, IOS)
    assert reply["environment"] == "dev"
    assert reply["result"] == "[0]"  # only the first token of a `token` push is used
    reply = await tpns.push(notify("token_list", environment="product", token_list=["a", "b"]), IOS)
    assert reply["result"] == "[0,0]"  # compact JSON, as TPNS writes it
    assert reply["invalid_targe_list"] == []


async def test_ignore_invalid_token_lists_the_filtered_tokens(tpns: Tpns) -> None:
    long_token = "x" * 37
    body = notify("token_list", token_list=["ok", long_token], ignore_invalid_token=1)
    reply = await tpns.push(body)
    assert reply["invalid_targe_list"] == [long_token]
    assert reply["result"] == "[0]"
    only_bad = notify("token_list", token_list=[long_token], ignore_invalid_token=1)
    assert (await tpns.push(only_bad))["ret_code"] == 1008029


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


MISSING_CASES = [
    _without(notify(), "audience_type"),
    _without(notify(), "message"),
    _without(notify(), "message_type"),
    _without(notify(), "message", "title"),
    notify(message={"title": "t", "content": ""}),
    _without(notify("tag"), "tag_list"),
    _without(notify("token"), "token_list"),
    notify("token_list", token_list=[]),
    _without(notify("account"), "account_list"),
    _without(notify("package_account_push"), "upload_id"),
    notify("package_token_push", upload_id=0),
    notify("tag", tag_list=None, tag_rules=[{"operator": "OR", "is_not": False}]),
]


@pytest.mark.parametrize("body", MISSING_CASES)
async def test_missing_required_field_is_1008002(tpns: Tpns, body: dict[str, Any]) -> None:
    reply = await tpns.push(body)
    assert reply["ret_code"] == 1008002, reply
    assert reply["err_msg"].startswith("missing parameter")


TAG_ITEM = {"tags": ["vip"], "is_not": False, "tags_operator": "OR", "items_operator": "OR"}
INVALID_CASES = [
    notify("everyone"),
    notify(message_type="notification"),
    notify(message="text"),
    notify(message={"title": 1, "content": "c"}),
    notify(message={"title": "t", "content": "x" * 4100}),
    notify("token_list", token_list=["t"] * 1001),
    notify("account_list", account_list=["a"] * 1001),
    notify("token_list", token_list=["x" * 37]),
    notify("token_list", token_list=[""]),
    notify("tag", tag_list={"tags": ["a"], "op": "XOR"}),
    notify("tag", tag_rules=[{"tag_items": [{**TAG_ITEM, "tag_type": "colour"}]}]),
    notify(
        "tag",
        tag_rules=[{"tag_items": [{**TAG_ITEM, "tag_type": "xg_user_define", "is_not": "no"}]}],
    ),
    notify(expire_time=259201),
    notify(expire_time=-1),
    notify(expire_time="86400"),
    notify(send_time="2026-11-20T12:00:00"),
    notify(send_time="2026-02-30 12:00:00"),
    notify(send_time=wall(91 * 86400)),
    notify("token", send_time=wall(3600)),
    notify("account_list", loop_param={"startDate": "2026-11-21"}),
    notify("token_list", push_speed=2000),
    notify(push_speed=10),
    notify(environment="staging"),
    notify(channel_rules=[{"channel": "pigeon", "disable": True}]),
    notify(multi_pkg="yes"),
    notify(account_push_type=2),
    notify("token_list", collapse_id=5),
    notify(collapse_id=12345),
    notify("package_account_push", upload_id=-4),
    notify("tag", tag_list={"tags": ["x" * 300, "y" * 213], "op": "OR"}),
    notify(group_id="has space"),
    notify(group_id="g" * 26),
]


@pytest.mark.parametrize("body", INVALID_CASES)
async def test_invalid_value_is_1008007(tpns: Tpns, body: dict[str, Any]) -> None:
    reply = await tpns.push(body)
    assert reply["ret_code"] == 1008007, reply
    assert reply["err_msg"].startswith("invalid parameter")


async def test_unparseable_json_is_1008001(tpns: Tpns) -> None:
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        reply = await tpns.post("/v3/push/app", raw)
        assert reply["ret_code"] == 1008001


async def test_ios_requires_environment_and_checks_silent_messages(tpns: Tpns) -> None:
    assert (await tpns.push(notify("token"), IOS))["ret_code"] == 1008002
    silent = {"ios": {"aps": {"content-available": 1}}}
    ok = notify("token", environment="dev", message_type="message", message=silent)
    assert (await tpns.push(ok, IOS))["ret_code"] == 0
    loud = {"ios": {"aps": {"content-available": 1, "sound": "default"}}}
    bad = notify("token", environment="dev", message_type="message", message=loud)
    assert (await tpns.push(bad, IOS))["ret_code"] == 1008007
    clash = {"title": "t", "content": "c", "ios": {"aps": {"content-available": 1}}}
    assert (await tpns.push(notify("token", environment="dev", message=clash), IOS))[
        "ret_code"
    ] == 1008007


async def test_zero_values_platform_and_trace_id_are_accepted(tpns: Tpns) -> None:
    body = notify(
        "token_list",
        platform="android",
        trace_id="",
        environment="",
        upload_id=0,
        collapse_id=0,
        push_speed=0,
        multi_pkg=False,
        force_collapse=False,
        account_type=0,
        send_time="",
    )
    assert (await tpns.push(body))["ret_code"] == 0


@pytest.mark.parametrize(
    ("given", "stored"), [(None, 86400), (0, 0), (1, 800), (799, 800), (800, 800), (259200, 259200)]
)
async def test_expire_time_normalisation(tpns: Tpns, given: int | None, stored: int) -> None:
    body = notify("token_list") if given is None else notify("token_list", expire_time=given)
    reply = await tpns.push(body)
    assert (await tpns.record(reply["push_id"]))["expireTime"] == stored


async def test_send_time_windows(tpns: Tpns, clock: ManualClock) -> None:
    late = await tpns.push(notify(send_time=wall(-601)))
    assert late["ret_code"] == 10010012
    recent = await tpns.push(notify(send_time=wall(-600)))
    record = await tpns.record(recent["push_id"])
    assert record["status"] == "PUSH_STARTED"  # dispatched at once
    assert record["date"] == wall(0)  # not scheduled: the record shows the creation time
    clock.advance(1)
    ahead = await tpns.push(notify("tag", send_time=wall(90 * 86400)))
    record = await tpns.record(ahead["push_id"])
    assert record["status"] == "PUSH_WAIT"
    assert record["date"] == wall(90 * 86400)


async def test_collapse_ids_are_assigned_to_broadcast_tasks_only(
    tpns: Tpns, clock: ManualClock
) -> None:
    first = await tpns.record((await tpns.push(notify()))["push_id"])
    clock.advance(1)
    second = await tpns.record((await tpns.push(notify("tag")))["push_id"])
    token = await tpns.record((await tpns.push(notify("token")))["push_id"])
    assert first["collapseID"] > 0
    assert second["collapseID"] > first["collapseID"]
    assert token["collapseID"] == 0


async def test_override_collapses_the_earlier_task(
    tpns: Tpns, clock: ManualClock, core: EmulatorCore
) -> None:
    old = await tpns.push(notify())
    collapse_id = (await tpns.record(old["push_id"]))["collapseID"]
    clock.advance(5)
    new = await tpns.push(notify("tag", collapse_id=collapse_id, force_collapse=True))
    assert new["ret_code"] == 0
    assert (await tpns.record(old["push_id"]))["status"] == "PUSH_COLLAPSED"
    record = await tpns.record(new["push_id"])
    assert record["collapseID"] == collapse_id
    assert record["status"] == "PUSH_STARTED"
    internal = {t["pushId"]: t for t in core.tasks()}
    assert internal[new["push_id"]]["forceCollapse"] is True
    assert internal[old["push_id"]]["forceCollapse"] is False


async def test_loop_push_returns_one_id_per_occurrence(tpns: Tpns) -> None:
    loop = {
        "startDate": "2026-11-21",
        "endDate": "2026-11-23",
        "loopType": 1,
        "loopDayIndexs": [0],
        "dayTimes": ["09:00:00", "18:00:00"],
    }
    reply = await tpns.push(notify("tag", loop_param=loop))
    assert reply["ret_code"] == 0
    assert isinstance(reply["push_id"], list)
    assert len(reply["push_id"]) == 6
    dates = [(await tpns.record(pid))["date"] for pid in reply["push_id"]]
    assert dates[0] == "2026-11-21 09:00:00"
    assert dates[-1] == "2026-11-23 18:00:00"


async def test_weekly_and_monthly_loops(tpns: Tpns, clock: ManualClock) -> None:
    weekly = {"startDate": "2026-11-20", "endDate": "2026-12-03", "loopType": 2,
              "loopDayIndexs": [0], "dayTimes": ["12:00:00"]}  # fmt: skip
    reply = await tpns.push(notify("tag", loop_param=weekly))
    assert len(reply["push_id"]) == 2  # Sundays 2026-11-22 and 2026-11-29
    clock.advance(2)
    monthly = {"startDate": "2026-11-20", "endDate": "2027-01-31", "loopType": 3,
               "loopDayIndexs": [1], "dayTimes": ["08:00:00"]}  # fmt: skip
    reply = await tpns.push(notify("tag", loop_param=monthly))
    assert [(await tpns.record(p))["date"][:10] for p in reply["push_id"]] == [
        "2026-12-01",
        "2027-01-01",
    ]


async def test_the_stored_body_is_the_request(tpns: Tpns, core: EmulatorCore) -> None:
    body = notify("account", account_list=["alice", "bob"], trace_id="t-1")
    reply = await tpns.push(body)
    task = core.tasks()[0]
    assert task["body"] == json.loads(json.dumps(body))
    assert task["pushId"] == reply["push_id"]
    assert task["targetList"] == ["alice"]
    assert task["pushType"] == "account_list"
