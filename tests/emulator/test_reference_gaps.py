"""Rules of the reference the emulator once skipped: iOS aps presence, account lengths, recall
inside the expire_time window, tagSet, page limits over 200, content and certificate faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator import AppSpec, EmulatorCore, EmulatorSettings, ManualClock, create_app

from .conftest import ANDROID, IOS, Tpns, notify

RECORD = "/v3/statistics/get_push_record"
REVOKE = "/v3/push/revoke_push_msg"


def ios_notify(ios: object) -> dict[str, Any]:
    body = notify("token", environment="product")
    body["message"] = {**body["message"], "ios": ios}
    return body


def invalid(code: int, detail: str) -> dict[str, Any]:
    base = {1008002: "missing parameter", 1008007: "invalid parameter"}[code]
    return {"seq": 0, "ret_code": code, "err_msg": f"{base}: {detail}"}


async def test_ios_object_without_aps_is_a_missing_parameter(tpns: Tpns) -> None:
    reply = await tpns.push(ios_notify({"custom_content": "{}"}), IOS)
    assert reply == invalid(1008002, "message.ios.aps is required when message.ios is given")
    reply = await tpns.push(ios_notify({"aps": "loud"}), IOS)
    assert reply == invalid(1008007, "message.ios.aps must be an object")
    reply = await tpns.push(ios_notify({"aps": {"alert": {"subtitle": "s"}}}), IOS)
    assert reply["ret_code"] == 0


async def test_ios_object_requirement_is_configurable(clock: ManualClock) -> None:
    strict = EmulatorCore(clock=clock, settings=EmulatorSettings(require_ios_object=True))
    strict.add_app(IOS)
    transport = httpx.ASGITransport(app=create_app(strict))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        reply = await Tpns(client, clock).push(notify("token", environment="dev"), IOS)
    assert reply == invalid(1008002, "message.ios (with aps) is required for iOS apps")


@pytest.mark.parametrize(
    ("accounts", "ok"),
    [(["ab", "c" * 100], True), (["a"], False), (["alice", "x" * 101], False)],
)
async def test_accounts_have_two_to_a_hundred_characters(
    tpns: Tpns, accounts: list[str], *, ok: bool
) -> None:
    reply = await tpns.push(notify("account_list", account_list=accounts))
    if ok:
        assert reply["ret_code"] == 0
    else:
        bad = [a for a in accounts if not 2 <= len(a) <= 100]
        assert reply == invalid(1008007, f"accounts must have 2-100 characters, not {bad}")


async def test_recall_only_while_delivering_or_inside_expire_time(
    tpns: Tpns, core: EmulatorCore, clock: ManualClock
) -> None:
    core.add_app(AppSpec(ANDROID.access_id, ANDROID.secret, "android", recall_enabled=True))
    early = (await tpns.push(notify("tag", expire_time=800)))["push_id"]
    clock.advance(1)
    late = (await tpns.push(notify("all", expire_time=800)))["push_id"]
    clock.advance(799.5)  # early's offline window closed 0.5 s ago; late's is open 0.5 s more
    assert (await tpns.record(early))["status"] == "PUSH_FINISHED"
    reply = await tpns.post(REVOKE, {"pushId": early})
    assert reply == invalid(
        1008007,
        f"task {early} is PUSH_FINISHED; only a task delivering or inside its "
        "expire_time window can be recalled",
    )
    reply = await tpns.post(REVOKE, {"pushId": late})
    assert reply == {"seq": 0, "ret_code": 0, "err_msg": "NO_ERROR"}
    assert (await tpns.record(early))["status"] == "PUSH_FINISHED"
    assert (await tpns.record(late))["status"] == "PUSH_REVOKED"


async def test_tag_set_of_a_tag_list_push_is_the_documented_shape(tpns: Tpns) -> None:
    body = notify("tag", tag_list={"tags": ["test68"], "op": "OR"})
    record = await tpns.record((await tpns.push(body))["push_id"])
    assert record["tagSet"] == {
        "op": "OR",
        "tagWithType": [{"tagTypeName": "xg_user_define", "tagValue": "test68"}],
    }
    token = await tpns.record((await tpns.push(notify("token")))["push_id"])
    assert token["tagSet"] is None


def _seed(core: EmulatorCore, count: int) -> None:
    for n in range(count):
        core.seed_task(
            ANDROID.access_id, notify("token", message={"title": f"{n}", "content": "c"})
        )


RANGE = {"startDate": "2026-11-20", "endDate": "2026-11-20", "limit": 201}


async def test_limit_over_200_is_capped_by_default(tpns: Tpns, core: EmulatorCore) -> None:
    _seed(core, 201)
    reply = await tpns.post(RECORD, RANGE)
    assert (reply["retCode"], reply["count"], len(reply["pushRecordData"])) == (0, 201, 200)


async def test_limit_over_200_can_be_refused(clock: ManualClock) -> None:
    core = EmulatorCore(clock=clock, settings=EmulatorSettings(over_page_limit="refuse"))
    core.add_app(ANDROID)
    transport = httpx.ASGITransport(app=create_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        tpns = Tpns(client, clock)
        reply = await tpns.post(RECORD, RANGE)
        assert reply == {
            "retCode": 1008007,
            "errMsg": "invalid parameter: limit 201 is over the maximum of 200",
        }
        assert (await tpns.post(RECORD, {**RANGE, "limit": 200}))["retCode"] == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (1008019, "content may be evil"),
        (1008023, "ios push cert was expired for the environment: PRODUCT"),
    ],
)
async def test_content_and_certificate_refusals_are_injectable(
    tpns: Tpns, core: EmulatorCore, code: int, message: str
) -> None:
    core.set_faults([{"path": "/v3/push/app", "kind": "ret_code", "ret_code": code, "count": 1}])
    assert await tpns.push(notify("token", seq=5)) == {
        "seq": 5,
        "ret_code": code,
        "err_msg": message,
    }
    assert core.tasks() == []
    assert [entry["ret_code"] for entry in core.ledger()] == [code]
