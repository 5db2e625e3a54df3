"""Authentication: signature vectors of reference 2.3, skew window, Basic, unknown AccessID."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from reconciler.emulator import AppSpec, EmulatorCore, ManualClock, compute_sign
from reconciler.emulator.auth import Credentials, verify

from .conftest import ANDROID, START, notify, signed_headers

VECTOR_SECRET = "1452fcebae9f3115ba794fb0fff2fd73"
VECTOR_TIMESTAMP = "1565314789"
VECTOR_ACCESS_ID = "1500001048"
BODY_WITH_PLATFORM = (
    '{"audience_type": "account","platform": "android","message": {"title": "test title",'
    '"content": "test content","android": { "action": {"action_type": 3,"intent": '
    '"xgscheme://com.xg.push/notify_detail?param1=xg"}}},"message_type": "notify",'
    '"account_list": ["5822f0eee44c3625ef0000bb"] }'
)
BODY_WITHOUT_PLATFORM = BODY_WITH_PLATFORM.replace('"platform": "android",', "")
SIGN_WITH_PLATFORM = (
    "Y2QyMDc3NDY4MmJmNzhiZmRiNDNlMTdkMWQ1ZDU2YjNlNWI3ODlhMTY3MGZjMTUyN2VmNTRjNjVkMmQ3Yjc2ZA=="
)
SIGN_WITHOUT_PLATFORM = (
    "MDlmMDdkMmE1MThhODgxNGUzNjlkY2Q5NTM0ZjEwYjhhMjlkMTI4NTMxYTE5YWRhYTI4Y2IyNDc2MDVjMWU4NA=="
)


@pytest.mark.parametrize(
    ("body", "sign"),
    [(BODY_WITH_PLATFORM, SIGN_WITH_PLATFORM), (BODY_WITHOUT_PLATFORM, SIGN_WITHOUT_PLATFORM)],
)
def test_reference_vectors_sign_and_verify(body: str, sign: str) -> None:
    assert compute_sign(VECTOR_SECRET, VECTOR_TIMESTAMP, VECTOR_ACCESS_ID, body.encode()) == sign
    credentials = Credentials(
        access_id=VECTOR_ACCESS_ID, scheme="signature", timestamp=VECTOR_TIMESTAMP, sign=sign
    )
    ok = verify(
        credentials,
        secret=VECTOR_SECRET,
        body=body.encode(),
        now_epoch=int(VECTOR_TIMESTAMP),
        skew_window_seconds=600,
    )
    assert ok


def test_reference_vector_accepted_by_the_emulator_over_http() -> None:
    clock = ManualClock(START.fromtimestamp(int(VECTOR_TIMESTAMP), tz=START.tzinfo))
    core = EmulatorCore(clock=clock)
    core.add_app(AppSpec(VECTOR_ACCESS_ID, VECTOR_SECRET, "android"))
    headers = {"AccessId": VECTOR_ACCESS_ID, "TimeStamp": VECTOR_TIMESTAMP}
    reply = core.handle(
        "/v3/push/app", {**headers, "Sign": SIGN_WITH_PLATFORM}, BODY_WITH_PLATFORM.encode()
    )
    assert reply.payload["ret_code"] == 0
    # The other vector's Sign does not match this body: verified over the raw bytes received.
    reply = core.handle(
        "/v3/push/app", {**headers, "Sign": SIGN_WITHOUT_PLATFORM}, BODY_WITH_PLATFORM.encode()
    )
    assert reply.payload["ret_code"] == 1008003


def _post(core: EmulatorCore, headers: dict[str, str], body: bytes) -> int:
    code = core.handle("/v3/push/app", headers, body).payload["ret_code"]
    assert isinstance(code, int)
    return code


def test_signature_is_checked_over_raw_bytes(core: EmulatorCore) -> None:
    body = json.dumps(notify("token_list")).encode()
    headers = signed_headers(ANDROID, body, int(START.timestamp()))
    assert _post(core, headers, body) == 0
    respaced = json.dumps(notify("account"), indent=2).encode()
    assert _post(core, signed_headers(ANDROID, respaced, int(START.timestamp())), respaced) == 0
    assert _post(core, headers, body.replace(b", ", b",")) == 1008003


@pytest.mark.parametrize(("offset", "code"), [(-600, 0), (600, 0), (-601, 1008003), (601, 1008003)])
def test_timestamp_skew_window(core: EmulatorCore, offset: int, code: int) -> None:
    body = json.dumps(notify("token_list")).encode()
    headers = signed_headers(ANDROID, body, int(START.timestamp()) + offset)
    assert _post(core, headers, body) == code


def test_non_numeric_timestamp_and_wrong_secret_fail(core: EmulatorCore) -> None:
    body = json.dumps(notify("token")).encode()
    headers = signed_headers(ANDROID, body, int(START.timestamp()))
    assert _post(core, {**headers, "TimeStamp": "soon"}, body) == 1008003
    wrong = AppSpec(ANDROID.access_id, "not-the-secret", "android")
    assert _post(core, signed_headers(wrong, body, int(START.timestamp())), body) == 1008003


def _basic(access_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{access_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth(core: EmulatorCore) -> None:
    body = json.dumps(notify("token")).encode()
    assert _post(core, _basic(ANDROID.access_id, ANDROID.secret), body) == 0
    assert _post(core, _basic(ANDROID.access_id, "wrong"), body) == 1008003
    assert _post(core, {"Authorization": "Basic !!notbase64"}, body) == 1008003
    assert (
        _post(core, {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()}, body)
        == 1008003
    )


def test_signature_is_preferred_over_basic(core: EmulatorCore) -> None:
    body = json.dumps(notify("token")).encode()
    signed = signed_headers(ANDROID, body, int(START.timestamp()))
    good_basic = _basic(ANDROID.access_id, ANDROID.secret)
    assert _post(core, {**good_basic, **signed, "Sign": "bad"}, body) == 1008003
    assert _post(core, {**_basic(ANDROID.access_id, "wrong"), **signed}, body) == 0


def test_missing_credentials_and_unknown_access_id(core: EmulatorCore) -> None:
    body = json.dumps(notify()).encode()
    assert _post(core, {}, body) == 1008003
    stranger = AppSpec("1500009999", "s", "android")
    assert _post(core, signed_headers(stranger, body, int(START.timestamp())), body) == 1008035
    assert _post(core, _basic("1500009999", "s"), body) == 1008035


async def test_auth_failure_is_http_200_with_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post("/v3/push/app", content=b'{"seq": 7}')
    assert response.status_code == 200
    assert response.json() == {"seq": 7, "ret_code": 1008003, "err_msg": "auth failure"}
    response = await client.post("/v3/statistics/get_push_record", content=b"{}")
    assert response.json() == {"retCode": 1008003, "errMsg": "auth failure"}
