"""What a failed exchange tells the caller: timed out or not, the cause, the hint, the retry log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest

from reconciler.errors import OutcomeUnknown, PushctlError, TransportError
from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient
from reconciler.tpns.endpoints import GET_PUSH_RECORD, STOP_PUSH_MSG
from reconciler.tpns.errors import MalformedResponse, PushIdNotFound

from .fakes import OK_PUSH, FakeTime, ScriptedTpns, make_client, record, stats_reply

TOKEN_PUSH: dict[str, Any] = {
    "audience_type": "token_list",
    "token_list": ["t1"],
    "message_type": "notify",
    "message": {"title": "a", "content": "b"},
}
BASE = "https://api.tpns.tencent.com"


async def test_a_push_whose_answer_timed_out_says_how_long_the_client_waited(
    fake_time: FakeTime,
) -> None:
    tpns = ScriptedTpns(script=[httpx.ReadTimeout("slow")], default=OK_PUSH)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            await client.push_app(TOKEN_PUSH)
    assert client.timeout == 10.0
    assert caught.value.timed_out_after == 10.0
    assert caught.value.message == (
        "push for app 1500001048 may or may not have been created (TPNS /v3/push/app at "
        f"{BASE} failed after the request was sent: ReadTimeout: slow)"
    )


async def test_a_push_whose_connection_dropped_did_not_time_out(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(script=[httpx.RemoteProtocolError("")], default=OK_PUSH)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            await client.push_app(TOKEN_PUSH)
    assert caught.value.timed_out_after is None
    assert caught.value.message.endswith("sent: RemoteProtocolError: no detail)")


async def test_a_timed_out_stop_is_marked_timed_out_and_says_to_reread(
    fake_time: FakeTime,
) -> None:
    tpns = ScriptedTpns(script=[httpx.WriteTimeout("stalled")])
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(TransportError) as caught:
            await client.stop_push_msg("42")
    error = caught.value
    assert (error.maybe_delivered, error.timed_out) == (True, True)
    assert error.message == (
        f"TPNS {STOP_PUSH_MSG} at {BASE} failed after the request was sent: WriteTimeout: stalled"
    )
    assert error.hint == (
        "TPNS may have acted on it; re-read the task's live status before repeating the call"
    )
    assert client.calls_made == {STOP_PUSH_MSG: 1}


async def test_an_unreachable_tpns_says_nothing_was_sent(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(script=[httpx.ConnectError("refused")] * 4)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(TransportError) as caught:
            await client.cancel_timing_task("42")
    error = caught.value
    assert (error.maybe_delivered, error.timed_out) == (False, False)
    assert error.message.endswith("for /v3/push/cancel_timing_task: ConnectError: refused")
    assert error.hint == "nothing reached TPNS; check the endpoint and the network, then retry"
    assert client.calls_made == {}


@pytest.mark.parametrize(
    ("path", "answer", "call"),
    [
        (GET_PUSH_RECORD, stats_reply([record(7)]), lambda c: c.get_push_record("7")),
        (STOP_PUSH_MSG, {"ret_code": 0}, lambda c: c.stop_push_msg("42")),
        ("/v3/push/app", OK_PUSH, lambda c: c.push_app(TOKEN_PUSH)),
    ],
    ids=["read", "stop", "push"],
)
async def test_each_retry_is_logged_with_path_attempt_cause_and_delay(
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
    path: str,
    answer: dict[str, Any],
    call: Callable[[TpnsClient], Awaitable[object]],
) -> None:
    tpns = ScriptedTpns(script=[httpx.ConnectError("refused")], default=answer)
    caplog.set_level(logging.WARNING, logger="reconciler.tpns.client")
    async with make_client(tpns, fake_time) as client:
        await call(client)
    assert [r.getMessage() for r in caplog.records] == [
        f"TPNS {path} attempt 1 of 4 failed (could not reach TPNS at {BASE} for "
        f"{path}: ConnectError: refused); retrying in 0.50 s"
    ]


async def test_a_stop_retried_on_a_tpns_error_code_is_logged_under_its_own_path(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    failure = {"ret_code": 1008004, "err_msg": "invoke service error"}
    tpns = ScriptedTpns(script=[failure], default={"ret_code": 0})
    caplog.set_level(logging.WARNING, logger="reconciler.tpns.client")
    async with make_client(tpns, fake_time) as client:
        await client.stop_push_msg("42")
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"TPNS {STOP_PUSH_MSG} attempt 1 of 4 failed (")
    assert line.endswith("); retrying in 0.50 s")


async def test_a_stop_refused_as_too_fast_is_tried_four_times_in_all(fake_time: FakeTime) -> None:
    too_fast = {"ret_code": 1008028, "err_msg": "request too fast"}
    tpns = ScriptedTpns(script=[too_fast] * 3, default={"ret_code": 0})
    async with make_client(tpns, fake_time) as client:
        await client.stop_push_msg("42")
    assert len(tpns.requests) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("reply", "what"),
    [
        ({"retCode": 0, "pushRecordData": "none"}, "a pushRecordData that is not an array"),
        (stats_reply([{**record(7), "date": 20261121}]), "a task date 20261121 that is not a"),
    ],
    ids=["records", "date"],
)
async def test_a_malformed_read_names_the_path_that_answered_it(
    fake_time: FakeTime, reply: dict[str, Any], what: str
) -> None:
    tpns = ScriptedTpns(default=reply)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(MalformedResponse) as caught:
            await client.get_push_record("7")
    assert caught.value.path == GET_PUSH_RECORD
    assert caught.value.message.startswith(f"TPNS {GET_PUSH_RECORD} answered HTTP 200 with {what}")


async def test_a_task_missing_from_the_answer_says_to_check_the_id(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=stats_reply([record(8)]))
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(PushIdNotFound) as caught:
            await client.get_push_record("7")
    assert caught.value.code == 1008015
    assert caught.value.message == (
        f"TPNS {GET_PUSH_RECORD} returned no record for push id 7 of app 1500001048"
    )
    assert caught.value.hint == "check the pushId; TPNS only keeps tasks of the last month"


@pytest.mark.parametrize(("size", "allowed"), [(0, False), (1, True), (200, True), (201, False)])
async def test_a_page_holds_one_to_two_hundred_records(
    fake_time: FakeTime, size: int, allowed: bool
) -> None:
    tpns = ScriptedTpns(default=stats_reply([record(7)], count=1))
    async with make_client(tpns, fake_time) as client:
        read = client.list_push_records(
            start_date=date(2026, 11, 1), end_date=date(2026, 11, 2), page_size=size
        )
        if allowed:
            assert [t.push_id for t in await read] == ["7"]
            assert tpns.bodies()[0]["limit"] == size
        else:
            with pytest.raises(ValueError, match=f"page_size must be 1..200, got {size}"):
                await read
            assert tpns.requests == []


async def test_a_client_signs_requests_unless_told_to_use_basic_auth(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=OK_PUSH)
    client = TpnsClient(
        access_id="1500001048",
        secret=Secret("1452fcebae9f3115ba794fb0fff2fd73"),
        base_url=BASE,
        transport=httpx.MockTransport(tpns),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )
    async with client:
        await client.push_app(TOKEN_PUSH)
    assert "auth='signature'" in repr(client)
    (request,) = tpns.requests
    assert "Sign" in request.headers
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("answer", "what"),
    [
        (httpx.Response(200, content=b"<html>"), "a body that is not JSON"),
        ({"retCode": 1008003, "errMsg": "auth failure"}, "auth"),
    ],
    ids=["not-json", "error-code"],
)
async def test_a_failed_read_names_the_path_it_read(
    fake_time: FakeTime, answer: httpx.Response | dict[str, Any], what: str
) -> None:
    tpns = ScriptedTpns(default=answer)
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(PushctlError) as caught:
            await client.get_push_record("7")
    assert getattr(caught.value, "path", None) == GET_PUSH_RECORD
    assert GET_PUSH_RECORD in caught.value.message
    assert what in caught.value.message


async def test_each_answer_is_logged_at_debug_level(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    tpns = ScriptedTpns(default={"ret_code": 0})
    caplog.set_level(logging.DEBUG, logger="reconciler.tpns.client")
    async with make_client(tpns, fake_time) as client:
        await client.cancel_timing_task("42")
    assert [r.getMessage() for r in caplog.records] == [
        "TPNS 1500001048 /v3/push/cancel_timing_task answered HTTP 200"
    ]
