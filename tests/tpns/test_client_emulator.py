"""The client against the real emulator: in-process over ASGI, and over loopback HTTP.

The client's clock and sleep are the emulator's ManualClock, so signatures fall inside the
emulator's skew window and pacing waits move emulated time instead of wall time.
"""

from __future__ import annotations

import base64
import importlib.abc
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

import httpx
import pytest

from reconciler.emulator import AppSpec, EmulatorCore, ManualClock, create_app
from reconciler.emulator.server import running_server
from reconciler.errors import OutcomeUnknown, QuotaExceeded
from reconciler.records import LiveStatus
from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient
from reconciler.tpns.endpoints import GET_PUSH_RECORD, PUSH_APP
from reconciler.tpns.errors import AuthFailed, InvalidRequest, PushIdNotFound, RateLimited
from reconciler.tpns.quota import QuotaLedger, default_limits
from reconciler.tpns.retry import RetryPolicy

ACCESS_ID = "1500001048"
SECRET = "emulator-secret-of-shop-android"
START = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
CST = timedelta(hours=8)


def tag_push(title: str = "teaser", **extra: Any) -> dict[str, Any]:
    return {
        "audience_type": "tag",
        "tag_rules": [
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
        ],
        "message_type": "notify",
        "message": {"title": title, "content": "black friday starts soon"},
        **extra,
    }


class Emulated:
    """An emulator core plus the client wired to its clock."""

    def __init__(self) -> None:
        self.core = EmulatorCore(clock=ManualClock(START))
        self.core.add_app(
            AppSpec(access_id=ACCESS_ID, secret=SECRET, platform="android", rate_limits=True)
        )
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.core.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.core.advance_clock(seconds)

    def client(
        self,
        *,
        base_url: str = "http://127.0.0.1",
        secret: str = SECRET,
        auth: str = "signature",
        quota: QuotaLedger | None = None,
        asgi: bool = True,
    ) -> TpnsClient:
        transport = httpx.ASGITransport(app=create_app(self.core)) if asgi else None
        return TpnsClient(
            access_id=ACCESS_ID,
            secret=Secret(secret),
            base_url=base_url,
            auth="basic" if auth == "basic" else "signature",
            transport=transport,
            clock=self.clock,
            sleep=self.sleep,
            quota=quota,
            retry=RetryPolicy(attempts=3, base=0.25, cap=1.0),
        )

    def pushes_received(self) -> list[dict[str, Any]]:
        return [entry for entry in self.core.ledger() if entry["path"] == PUSH_APP]


@pytest.fixture
def emulated() -> Emulated:
    return Emulated()


@pytest.fixture
async def client(emulated: Emulated) -> AsyncIterator[TpnsClient]:
    async with emulated.client() as tpns:
        yield tpns


@pytest.mark.parametrize("auth", ["signature", "basic"])
async def test_push_then_read_back(emulated: Emulated, auth: str) -> None:
    async with emulated.client(auth=auth) as tpns:
        result = await tpns.push_app(tag_push())
        task = await tpns.get_push_record(result.push_id)
    assert task.push_id == result.push_id
    assert task.status in (LiveStatus.INIT, LiveStatus.STARTED)
    assert task.push_type == "tag"
    assert task.title == "teaser"
    assert task.collapse_id > 0
    assert task.date == START
    assert task.date.utcoffset() == CST
    assert tpns.calls_made == {PUSH_APP: 1, GET_PUSH_RECORD: 1}


async def test_wrong_secret_is_an_auth_failure(emulated: Emulated) -> None:
    async with emulated.client(secret="not-the-secret") as tpns:
        with pytest.raises(AuthFailed, match="1008003") as caught:
            await tpns.push_app(tag_push())
    assert "not-the-secret" not in str(caught.value)


async def test_broadcast_pushes_are_paced_below_the_emulator_limit(
    emulated: Emulated, client: TpnsClient
) -> None:
    for n in range(3):
        await client.push_app(tag_push(f"wave {n}"))
    received = emulated.pushes_received()
    assert [entry["ret_code"] for entry in received] == [0, 0, 0]
    assert emulated.sleeps == [1.0, 1.0]


async def test_schedule_then_cancel(emulated: Emulated, client: TpnsClient) -> None:
    send_at = (START + CST + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    result = await client.push_app(tag_push(send_time=send_at))
    before = await client.get_push_record(result.push_id)
    assert before.status in (LiveStatus.WAIT, LiveStatus.INIT)
    assert before.date == START + timedelta(hours=2)
    await client.cancel_timing_task(result.push_id)
    after = await client.get_push_record(result.push_id)
    assert after.status is LiveStatus.CANCELED
    with pytest.raises(InvalidRequest, match="1008007"):
        await client.cancel_timing_task(result.push_id)


async def test_stop_a_delivering_task(emulated: Emulated, client: TpnsClient) -> None:
    result = await client.push_app(tag_push())
    emulated.core.advance_clock(5)
    await client.stop_push_msg(result.push_id)
    task = await client.get_push_record(result.push_id)
    assert task.status is LiveStatus.DELETED_PUSH_MSG


async def test_unknown_push_id(client: TpnsClient) -> None:
    with pytest.raises(PushIdNotFound):
        await client.get_push_record("999999999")
    with pytest.raises(PushIdNotFound):
        await client.stop_push_msg("999999999")


async def test_list_reads_three_pages(emulated: Emulated, client: TpnsClient) -> None:
    seeded = [
        emulated.core.seed_task(ACCESS_ID, tag_push(f"old {n}"), status="PUSH_FINISHED")
        for n in range(5)
    ]
    tasks = await client.list_push_records(
        start_date=date(2026, 11, 1), end_date=date(2026, 11, 21), page_size=2
    )
    assert sorted(t.push_id for t in tasks) == sorted(seeded)
    assert client.calls_made == {GET_PUSH_RECORD: 3}


@pytest.mark.parametrize("kind", ["drop", "http_5xx"])
@pytest.mark.parametrize("when", ["before", "after"])
async def test_maybe_delivered_push_is_sent_once(
    emulated: Emulated, client: TpnsClient, kind: str, when: str
) -> None:
    emulated.core.set_faults([{"path": PUSH_APP, "kind": kind, "when": when, "count": 1}])
    with pytest.raises(OutcomeUnknown) as caught:
        await client.push_app(tag_push())
    assert len(emulated.pushes_received()) == 1
    assert caught.value.access_id == ACCESS_ID
    created = emulated.core.tasks(ACCESS_ID)
    assert len(created) == (1 if when == "after" else 0)


async def test_service_failure_on_push_is_not_resent(
    emulated: Emulated, client: TpnsClient
) -> None:
    emulated.core.set_faults(
        [{"path": PUSH_APP, "kind": "ret_code", "ret_code": 1008004, "count": 1}]
    )
    with pytest.raises(OutcomeUnknown):
        await client.push_app(tag_push())
    assert len(emulated.pushes_received()) == 1


async def test_rate_limited_push_is_not_resent_by_the_client(
    emulated: Emulated, client: TpnsClient
) -> None:
    # Whether TPNS can make a task and still answer 1008028 is not documented: the client
    # never sends again on it; the engine reads back first.
    emulated.core.set_faults(
        [{"path": PUSH_APP, "kind": "ret_code", "ret_code": 1008028, "count": 1}]
    )
    with pytest.raises(RateLimited):
        await client.push_app(tag_push())
    assert [e["ret_code"] for e in emulated.pushes_received()] == [1008028]


async def test_reads_retry_service_failures(emulated: Emulated, client: TpnsClient) -> None:
    result = await client.push_app(tag_push())
    emulated.core.set_faults(
        [{"path": GET_PUSH_RECORD, "kind": "ret_code", "ret_code": 1008004, "count": 2}]
    )
    task = await client.get_push_record(result.push_id)
    assert task.push_id == result.push_id
    assert client.calls_made[GET_PUSH_RECORD] == 3
    assert len(emulated.sleeps) == 2


async def test_hourly_quota_is_enforced_before_the_emulator_refuses(emulated: Emulated) -> None:
    ledger = QuotaLedger(emulated.clock, limits=default_limits(statistics_per_hour=200))
    async with emulated.client(quota=ledger) as tpns:
        result = await tpns.push_app(tag_push())
        for _ in range(200):
            await tpns.get_push_record(result.push_id)
        with pytest.raises(QuotaExceeded, match="200 of 200 calls"):
            await tpns.get_push_record(result.push_id)
        assert tpns.calls_made[GET_PUSH_RECORD] == 200
        emulated.core.advance_clock(3600)
        assert ledger.remaining(GET_PUSH_RECORD) == 200
        await tpns.get_push_record(result.push_id)


async def test_over_loopback_http(emulated: Emulated) -> None:
    with running_server(emulated.core, host="127.0.0.1", port=0) as base_url:
        async with emulated.client(base_url=base_url, asgi=False) as tpns:
            result = await tpns.push_app(tag_push())
            task = await tpns.get_push_record(result.push_id)
            await tpns.stop_push_msg(result.push_id)
            emulated.core.set_faults([{"path": PUSH_APP, "kind": "drop", "when": "after"}])
            with pytest.raises(OutcomeUnknown):
                await tpns.push_app(tag_push("second"))
    assert task.push_id == result.push_id
    assert len(emulated.pushes_received()) == 2


class ImportSearches(importlib.abc.MetaPathFinder):
    """Notes every module the import system is asked to find (it finds none itself)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.names.append(fullname)
        return None


async def test_a_call_over_loopback_searches_for_no_module(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpcore imports sniffio inside every request; without it installed, each call searched
    # every folder of sys.path again (about 0.3 ms of CPU a call).
    with running_server(emulated.core, host="127.0.0.1", port=0) as base_url:
        async with emulated.client(base_url=base_url, asgi=False) as tpns:
            result = await tpns.push_app(tag_push())  # the first call may import lazily
            searches = ImportSearches()
            monkeypatch.setattr(sys, "meta_path", [searches, *sys.meta_path])
            for _ in range(3):
                await tpns.get_push_record(result.push_id)
            await tpns.stop_push_msg(result.push_id)
    assert searches.names == []


@pytest.mark.parametrize("auth", ["signature", "basic"])
async def test_no_secret_in_logs_over_loopback(
    emulated: Emulated, auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_server(emulated.core, host="127.0.0.1", port=0) as base_url:
        async with emulated.client(base_url=base_url, asgi=False, auth=auth) as tpns:
            emulated.core.set_faults([{"path": "*", "kind": "http_5xx", "count": 1}])
            with pytest.raises(OutcomeUnknown) as caught:
                await tpns.push_app(tag_push())
            await tpns.list_push_records(start_date=date(2026, 11, 1), end_date=date(2026, 11, 21))
    basic = base64.b64encode(f"{ACCESS_ID}:{SECRET}".encode()).decode()
    for text in (caplog.text, str(caught.value), repr(tpns)):
        assert SECRET not in text
        assert basic not in text
    assert caplog.records, "the HTTP stack logged at DEBUG, and none of it held the secret"


async def test_the_emulators_real_envelope_reaches_the_caller(client: TpnsClient) -> None:
    result = await client.push_app(tag_push())
    assert result.raw == {
        "seq": 0,
        "push_id": result.push_id,
        "ret_code": 0,
        "environment": "product",
        "err_msg": "NO_ERROR",
        "err_msg_zh": "",
        "result": "{}",
        "invalid_targe_list": [],
    }


async def test_a_loop_push_in_the_sdk_spelling_returns_every_id(client: TpnsClient) -> None:
    loop = {
        "startDate": "2026-11-22",
        "endDate": "2026-11-23",
        "loopType": 1,
        "loopDayIndexs": [0],
        "DayTimes": ["10:00:00"],
    }
    result = await client.push_app(tag_push(loop_param=loop))
    assert result.push_ids == ("100000001", "100000002")
    assert result.push_id == "100000001"
    later = await client.get_push_record(result.push_ids[1])
    assert later.status is LiveStatus.WAIT
