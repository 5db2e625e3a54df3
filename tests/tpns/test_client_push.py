"""/v3/push/app: signed once, paced for broadcasts, never re-sent once it may have arrived."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
from typing import Any

import httpx
import pytest

from reconciler.errors import OutcomeUnknown, TransportError
from reconciler.tpns.auth import Secret, sign
from reconciler.tpns.client import TpnsClient, encode_body
from reconciler.tpns.errors import AuthFailed, RateLimited

from .fakes import OK_PUSH, FakeTime, ScriptedTpns, make_client

TAG_PUSH: dict[str, Any] = {
    "audience_type": "tag",
    "tag_rules": [{"tag_items": [], "operator": "OR", "is_not": False}],
    "message_type": "notify",
    "message": {"title": "早上好", "content": "sale starts"},
}
TOKEN_PUSH: dict[str, Any] = {
    "audience_type": "token_list",
    "token_list": ["t1"],
    "message_type": "notify",
    "message": {"title": "a", "content": "b"},
}


async def test_push_is_signed_over_the_exact_bytes(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH)
    async with make_client(tpns, fake_time) as client:
        result = await client.push_app(TAG_PUSH)
    assert result.push_id == "3895624686"
    assert result.push_ids == ("3895624686",)
    assert result.raw == OK_PUSH
    (request,) = tpns.requests
    assert request.url == "https://api.tpns.tencent.com/v3/push/app"
    assert request.content == encode_body(TAG_PUSH)
    assert "早上好".encode() in request.content
    assert request.headers["AccessId"] == "1500001048"
    assert request.headers["TimeStamp"] == str(int(fake_time.now))
    expected = sign(
        Secret("1452fcebae9f3115ba794fb0fff2fd73"),
        timestamp=int(fake_time.now),
        access_id="1500001048",
        body=request.content,
    )
    assert request.headers["Sign"] == expected
    assert client.calls_made == {"/v3/push/app": 1}


async def test_basic_auth_client(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH)
    async with make_client(tpns, fake_time, auth="basic") as client:
        await client.push_app(TOKEN_PUSH)
    header = tpns.requests[0].headers["Authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")) == (
        b"1500001048:1452fcebae9f3115ba794fb0fff2fd73"
    )
    assert "Sign" not in tpns.requests[0].headers


async def test_loop_push_returns_every_id(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default={"ret_code": 0, "push_id": ["11", 12, "13"]})
    async with make_client(tpns, fake_time) as client:
        result = await client.push_app(TAG_PUSH)
    assert (result.push_id, result.push_ids) == ("11", ("11", "12", "13"))


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(500),
        httpx.Response(404),
        {"ret_code": 1008004, "err_msg": "invoke service error"},
        httpx.Response(200, text="<html>proxy</html>"),
    ],
    ids=[
        "read-timeout",
        "write-timeout",
        "dropped",
        "reset",
        "502",
        "500",
        "404",
        "1008004",
        "html",
    ],
)
async def test_maybe_delivered_push_is_never_resent(
    fake_time: FakeTime, failure: Exception | httpx.Response | dict[str, Any]
) -> None:
    tpns = ScriptedTpns(script=[failure], default=OK_PUSH)
    sent_at = fake_time.now
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            await client.push_app(TAG_PUSH)
    assert len(tpns.requests) == 1
    error = caught.value
    assert error.path == "/v3/push/app"
    assert error.access_id == "1500001048"
    assert error.sent_at_unix == sent_at
    assert error.body_digest == hashlib.sha256(tpns.requests[0].content).hexdigest()
    assert "may or may not" in str(error)
    assert fake_time.sleeps == []


async def test_connect_errors_are_retried_with_backoff(fake_time: FakeTime) -> None:
    refused = httpx.ConnectError("connection refused")
    tpns = ScriptedTpns(script=[refused, httpx.ConnectTimeout("slow"), refused], default=OK_PUSH)
    async with make_client(tpns, fake_time) as client:
        result = await client.push_app(TOKEN_PUSH)
    assert result.push_id == "3895624686"
    assert len(tpns.requests) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert client.calls_made == {"/v3/push/app": 1}  # refused connections reached no one


async def test_connect_errors_exhausted_say_nothing_was_sent(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH, script=[httpx.ConnectError("refused")] * 4)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(TransportError) as caught:
            await client.push_app(TOKEN_PUSH)
    assert caught.value.maybe_delivered is False
    assert "could not reach TPNS" in str(caught.value)
    assert len(tpns.requests) == 4


@pytest.mark.parametrize("body", [TAG_PUSH, TOKEN_PUSH], ids=["broadcast", "token"])
async def test_rate_limited_push_is_raised_at_once(
    fake_time: FakeTime, body: dict[str, object]
) -> None:
    # TPNS does not document that a push answered 1008028 made no task: never resend it here.
    too_fast = {"ret_code": 1008028, "err_msg": "request too fast"}
    tpns = ScriptedTpns(script=[too_fast, too_fast], default=OK_PUSH)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(RateLimited):
            await client.push_app(body)
    assert len(tpns.requests) == 1
    assert fake_time.sleeps == []


async def test_other_codes_are_raised_at_once(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(script=[{"ret_code": 1008003, "err_msg": "auth failure"}])
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(AuthFailed, match="secretKeyEnv"):
            await client.push_app(TAG_PUSH)
    assert len(tpns.requests) == 1


async def test_broadcast_pushes_are_paced_one_per_second(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH)
    start = fake_time.now
    async with make_client(tpns, fake_time) as client:
        for _ in range(3):
            await client.push_app(TAG_PUSH)
        await asyncio.gather(*(client.push_app(TAG_PUSH) for _ in range(3)))
        await client.push_app(TOKEN_PUSH)  # token pushes have no per-second limit
    assert tpns.times == [start + n for n in (0, 1, 2, 3, 4, 5, 5)]
    broadcast = tpns.times[:6]
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(broadcast))


async def test_shared_ledger_paces_across_clients(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH)
    first = make_client(tpns, fake_time)
    second = make_client(tpns, fake_time, quota=first.quota)
    async with first, second:
        await first.push_app(TAG_PUSH)
        await second.push_app(TAG_PUSH)
    assert tpns.times[1] - tpns.times[0] == 1.0


async def test_owned_http_client_is_closed_but_a_given_one_is_not(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH)
    async with httpx.AsyncClient(transport=httpx.MockTransport(tpns)) as http:
        client = TpnsClient(
            access_id="1500001048",
            secret=Secret("s"),
            base_url="http://127.0.0.1:9",
            http=http,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
        )
        async with client:
            await client.push_app(TOKEN_PUSH)
        assert not http.is_closed
    assert tpns.requests[0].url == "http://127.0.0.1:9/v3/push/app"


def test_client_refuses_plain_http_to_a_remote_host(fake_time: FakeTime) -> None:
    from reconciler.errors import ConfigError

    with pytest.raises(ConfigError, match="plain http"):
        TpnsClient(access_id="1", secret=Secret("s"), base_url="http://api.tpns.tencent.com")


async def test_pacing_holds_at_the_server_whatever_the_latency(fake_time: FakeTime) -> None:
    """TPNS stamps a push on arrival; with uneven latency the gap there still stays >= 1 s."""
    arrivals: list[float] = []
    outbound = iter([0.5, 0.1, 0.5, 0.1])

    def slow_network(request: httpx.Request) -> httpx.Response:
        fake_time.now += next(outbound)  # on the way there
        arrivals.append(fake_time.now)
        fake_time.now += 0.1  # on the way back
        return httpx.Response(200, json=OK_PUSH)

    tpns = ScriptedTpns(default=slow_network)
    async with make_client(tpns, fake_time) as client:
        await asyncio.gather(*(client.push_app(TAG_PUSH) for _ in range(4)))
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4
    assert all(gap >= 1.0 for gap in gaps), gaps
