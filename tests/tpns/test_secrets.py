"""A canary secret never shows up in a repr, an error message or a log record."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest

from reconciler.errors import PushctlError
from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient

from .fakes import CANARY, FakeTime, ScriptedTpns, make_client

TAG_PUSH: dict[str, Any] = {
    "audience_type": "tag",
    "message_type": "notify",
    "message": {"title": "a", "content": "b"},
}
FAILURES: list[Any] = [
    httpx.ReadTimeout("slow"),
    httpx.Response(500),
    httpx.Response(200, text="<html/>"),
    {"ret_code": 1008003, "err_msg": "auth failure"},
    {"ret_code": 1008004, "err_msg": "invoke service error"},
    httpx.RemoteProtocolError("dropped"),
]
LEAKS = [CANARY, base64.b64encode(f"1500001048:{CANARY}".encode()).decode()]


def _assert_clean(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text


@pytest.mark.parametrize("auth", ["signature", "basic"])
async def test_canary_never_leaks(
    fake_time: FakeTime, canary: Secret, auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    for failure in FAILURES:
        for operation in ("push", "read", "stop"):
            tpns = ScriptedTpns(script=[failure] * 4, default={"ret_code": 0})
            client = make_client(tpns, fake_time, secret=canary, auth=auth)
            _assert_clean(repr(client))
            async with client:
                try:
                    await _call(client, operation)
                except PushctlError as exc:
                    errors.append(exc)
    assert len(errors) == len(FAILURES) * 3
    for error in errors:
        _assert_clean(str(error))
        _assert_clean(repr(error))
        _assert_clean(repr(vars(error)))
        if error.__cause__ is not None:
            _assert_clean(str(error.__cause__))
    for record in caplog.records:
        _assert_clean(record.getMessage())
    _assert_clean(caplog.text)
    assert any("retrying" in r.getMessage() for r in caplog.records)


async def _call(client: TpnsClient, operation: str) -> None:
    if operation == "push":
        await client.push_app(TAG_PUSH)
    elif operation == "read":
        await client.get_push_record("1")
    else:
        await client.stop_push_msg("1")
