"""Bodies as the official server SDKs send them (Go gosdk, PHP SDK), answered as TPNS answers.

Written from reference sections 4.8-4.10 and 10 item 20 and the facts the SDKs' sources show:
every optional field serialised with its zero value, `loop_param.DayTimes` with a capital D,
`"badge_type": 0` (and in PHP `"alert": null`, `"sound": ""`) in iOS silent messages, and the
package upload as multipart/form-data with a `file` part. Each test asserts the whole envelope.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from reconciler.emulator import EmulatorCore, ManualClock

from .conftest import ANDROID, IOS, UPLOAD, Tpns, multipart_file

#: What gosdk's Request struct serialises for fields the caller left unset.
GOSDK_ZERO_VALUES: dict[str, Any] = {
    "platform": "",
    "environment": "",
    "upload_id": 0,
    "expire_time": 0,
    "send_time": "",
    "multi_pkg": False,
    "plan_id": "",
    "account_push_type": 0,
    "account_type": 0,
    "collapse_id": 0,
    "push_speed": 0,
    "tpns_online_push_type": 0,
    "force_collapse": False,
    "ignore_invalid_token": 0,
    "trace_id": "",
    "seq": 0,
    "loop_param": None,
    "channel_rules": None,
    "tag_list": None,
    "token_list": None,
    "account_list": None,
}
GOSDK_ANDROID_MESSAGE: dict[str, Any] = {
    "title": "Sale",
    "content": "Black Friday starts now",
    "android": {
        "n_id": 0,
        "builder_id": 0,
        "ring": 0,
        "ring_raw": "",
        "vibrate": 0,
        "lights": 0,
        "clearable": 0,
        "icon_type": 0,
        "icon_res": "",
        "style_id": 0,
        "small_icon": "",
        "action": {"action_type": 1, "activity": "", "intent": ""},
        "custom_content": "",
    },
}
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


def gosdk_body(audience: str, **fields: Any) -> dict[str, Any]:
    return {
        **GOSDK_ZERO_VALUES,
        "audience_type": audience,
        "message_type": "notify",
        "message": GOSDK_ANDROID_MESSAGE,
        **fields,
    }


def success(push_id: object, *, result: str = "{}", environment: str = "product") -> dict[str, Any]:
    return {
        "seq": 0,
        "push_id": push_id,
        "ret_code": 0,
        "environment": environment,
        "err_msg": "NO_ERROR",
        "err_msg_zh": "",
        "result": result,
        "invalid_targe_list": [],
    }


async def test_gosdk_tag_push_with_every_zero_value(tpns: Tpns) -> None:
    reply = await tpns.push(gosdk_body("tag", tag_rules=TAG_RULES))
    assert reply == success("100000001")


async def test_gosdk_token_list_push_answers_a_compact_result(tpns: Tpns) -> None:
    body = gosdk_body("token_list", token_list=["a" * 36, "b" * 36, "c" * 36])
    assert await tpns.push(body) == success("100000001", result="[0,0,0]")


async def test_gosdk_loop_push_with_capital_day_times(tpns: Tpns) -> None:
    loop = {
        "startDate": "2026-11-21",
        "endDate": "2026-11-22",
        "loopType": 1,
        "loopDayIndexs": [0],
        "DayTimes": ["09:00:00", "18:30:00"],
    }
    reply = await tpns.push(gosdk_body("all", loop_param=loop))
    assert reply == success(["100000001", "100000002", "100000003", "100000004"])
    record = await tpns.record("100000004")
    assert (record["date"], record["status"]) == ("2026-11-22 18:30:00", "PUSH_WAIT")


async def test_documented_day_times_spelling_still_works(tpns: Tpns) -> None:
    loop = {
        "startDate": "2026-11-21",
        "endDate": "2026-11-21",
        "loopType": 1,
        "loopDayIndexs": [0],
        "dayTimes": ["09:00:00"],
    }
    assert await tpns.push(gosdk_body("all", loop_param=loop)) == success(["100000001"])


async def test_loop_push_without_any_times_names_both_spellings(tpns: Tpns) -> None:
    loop = {"startDate": "2026-11-21", "endDate": "2026-11-21", "loopType": 1, "loopDayIndexs": []}
    reply = await tpns.push(gosdk_body("all", loop_param=loop))
    assert reply == {
        "seq": 0,
        "ret_code": 1008002,
        "err_msg": "missing parameter: loop_param.dayTimes or DayTimes is required",
    }


def ios_silent(aps: dict[str, Any]) -> dict[str, Any]:
    return {
        "audience_type": "token",
        "environment": "product",
        "message_type": "message",
        "token_list": ["d" * 36],
        "message": {"ios": {"aps": aps, "custom_content": '{"k":"v"}'}},
    }


async def test_gosdk_ios_silent_message_with_badge_type_zero(tpns: Tpns) -> None:
    reply = await tpns.push(ios_silent({"content-available": 1, "badge_type": 0}), IOS)
    assert reply == success("100000001", result="[0]")


async def test_php_sdk_ios_silent_message_with_null_alert_and_empty_sound(tpns: Tpns) -> None:
    aps = {"content-available": 1, "badge_type": 0, "alert": None, "sound": ""}
    reply = await tpns.push(ios_silent(aps), IOS)
    assert reply == success("100000001", result="[0]")


async def test_ios_silent_message_that_sets_a_value_is_refused(tpns: Tpns) -> None:
    aps = {"content-available": 1, "badge_type": 1, "alert": {"body": "hi"}, "sound": ""}
    reply = await tpns.push(ios_silent(aps), IOS)
    assert reply == {
        "seq": 0,
        "ret_code": 1008007,
        "err_msg": "invalid parameter: an iOS silent message cannot carry ['alert', 'badge_type']",
    }


async def test_ios_dev_environment_is_echoed(tpns: Tpns) -> None:
    body = {**ios_silent({"content-available": 1}), "environment": "dev"}
    assert await tpns.push(body, IOS) == success("100000001", result="[0]", environment="dev")


def basic_auth(access_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{access_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def test_gosdk_upload_then_package_account_push(
    client: httpx.AsyncClient, tpns: Tpns
) -> None:
    # gosdk uploads with Basic auth and lets httpx-like multipart code write the boundary.
    files = {"file": ("accounts.txt", b"alice\nbob\n", "text/plain")}
    response = await client.post(
        UPLOAD, files=files, headers=basic_auth(ANDROID.access_id, ANDROID.secret)
    )
    assert response.status_code == 200
    assert response.json() == {"retCode": 0, "errMsg": "NO_ERROR", "uploadId": 1}
    body = gosdk_body("package_account_push", upload_id=1)
    assert await tpns.push(body) == success("100000001")
    assert (await tpns.record("100000001"))["uploadId"] == 1


async def test_package_push_with_an_upload_id_never_issued_is_refused(
    tpns: Tpns, core: EmulatorCore
) -> None:
    reply = await tpns.push(gosdk_body("package_account_push", upload_id=7))
    assert reply == {
        "seq": 0,
        "ret_code": 1008007,
        "err_msg": "invalid parameter: upload_id 7 was never issued to app 1500001048; upload "
        "the package with /v3/push/package/upload and use the uploadId it returns",
    }
    assert core.tasks() == []


async def test_an_upload_id_of_another_app_is_not_issued_to_this_one(
    tpns: Tpns, clock: ManualClock
) -> None:
    upload_id = (await tpns.upload("accounts.csv", b"alice\nbob\n", IOS))["uploadId"]
    reply = await tpns.push(gosdk_body("package_account_push", upload_id=upload_id))
    assert reply["ret_code"] == 1008007


async def test_signed_upload_is_verified_over_the_multipart_bytes(
    client: httpx.AsyncClient, tpns: Tpns
) -> None:
    raw, content_type = multipart_file("tokens.txt", ("e" * 36).encode())
    headers = {"AccessId": ANDROID.access_id, "TimeStamp": "1", "Sign": "bad"}
    response = await client.post(
        UPLOAD, content=raw, headers={**headers, "Content-Type": content_type}
    )
    assert response.json() == {"retCode": 1008003, "errMsg": "auth failure"}
    assert await tpns.upload("tokens.txt", ("e" * 36).encode()) == {
        "retCode": 0,
        "errMsg": "NO_ERROR",
        "uploadId": 1,
    }
