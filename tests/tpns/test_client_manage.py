"""stop / revoke / cancel: repeated only when the failure surely changed nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler.errors import TransportError
from reconciler.tpns.client import TpnsClient
from reconciler.tpns.errors import InvalidRequest

from .fakes import FakeTime, ScriptedTpns, make_client

Call = Callable[[TpnsClient, str], Awaitable[None]]
OPERATIONS: list[tuple[str, Call]] = [
    ("/v3/push/stop_push_msg", TpnsClient.stop_push_msg),
    ("/v3/push/revoke_push_msg", TpnsClient.revoke_push_msg),
    ("/v3/push/cancel_timing_task", TpnsClient.cancel_timing_task),
]
IDS = ["stop", "revoke", "cancel"]


@pytest.mark.parametrize(("path", "call"), OPERATIONS, ids=IDS)
@pytest.mark.parametrize(
    "reply",
    [{"ret_code": 0, "err_msg": "", "seq": 0}, {"retCode": 0, "errMsg": "ok"}, {"ret_code": 0}],
)
async def test_success_in_either_family(
    fake_time: FakeTime, path: str, call: Call, reply: dict[str, Any]
) -> None:
    tpns = ScriptedTpns(default=reply)
    async with make_client(tpns, fake_time) as client:
        await call(client, "43214535")
    assert tpns.paths() == [path]
    assert tpns.bodies() == [{"pushId": "43214535"}]
    assert client.calls_made == {path: 1}


@pytest.mark.parametrize(("path", "call"), OPERATIONS, ids=IDS)
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        {"ret_code": 1008004, "err_msg": "invoke service error"},
        {"retCode": 1008028, "errMsg": "request too fast"},
    ],
    ids=["connect", "1008004", "1008028"],
)
async def test_unchanged_failures_are_retried(
    fake_time: FakeTime, path: str, call: Call, failure: Exception | dict[str, Any]
) -> None:
    tpns = ScriptedTpns(script=[failure], default={"ret_code": 0})
    async with make_client(tpns, fake_time) as client:
        await call(client, "1")
    assert tpns.paths() == [path, path]
    assert fake_time.sleeps == [0.5]


@pytest.mark.parametrize(("path", "call"), OPERATIONS, ids=IDS)
@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.Response(500)],
    ids=["timeout", "dropped", "500"],
)
async def test_maybe_delivered_failures_are_raised_for_a_live_recheck(
    fake_time: FakeTime, path: str, call: Call, failure: Exception | httpx.Response
) -> None:
    tpns = ScriptedTpns(script=[failure], default={"ret_code": 0})
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(TransportError) as caught:
            await call(client, "1")
    assert caught.value.maybe_delivered is True
    assert caught.value.path == path
    assert len(tpns.requests) == 1


async def test_invalid_state_is_raised_at_once(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(script=[{"ret_code": 1008007, "err_msg": "invalid parameter"}])
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(InvalidRequest, match="run plan again"):
            await client.cancel_timing_task("1")
    assert len(tpns.requests) == 1
