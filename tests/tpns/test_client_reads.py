"""get_push_record: single reads, date-range pages, retries with backoff, the hourly quota."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import httpx
import pytest

from reconciler.errors import ApiError, QuotaExceeded
from reconciler.records import LiveStatus
from reconciler.tpns.endpoints import GET_PUSH_RECORD
from reconciler.tpns.errors import HttpStatusError, MalformedResponse, PushIdNotFound
from reconciler.tpns.quota import QuotaLedger, default_limits
from reconciler.tpns.retry import RetryPolicy

from .fakes import FakeTime, ScriptedTpns, make_client, record, stats_reply


async def test_single_read(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=stats_reply([record(133703, status="PUSH_STARTED")]))
    async with make_client(tpns, fake_time) as client:
        task = await client.get_push_record("133703")
    assert tpns.bodies() == [{"pushId": "133703"}]
    assert tpns.paths() == [GET_PUSH_RECORD]
    assert task.push_id == "133703"
    assert task.status is LiveStatus.STARTED
    assert task.date == datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    assert task.collapse_id == 12
    assert task.raw == {"date": "2026-11-21 09:30:00"}  # the fields pushctl reads, as sent
    assert client.calls_made == {GET_PUSH_RECORD: 1}
    assert client.quota.remaining(GET_PUSH_RECORD) == 199


async def test_single_read_of_a_missing_task(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(
        script=[{"retCode": 1008015, "errMsg": "push id not exist"}, stats_reply([])]
    )
    async with make_client(tpns, fake_time) as client:
        with pytest.raises(PushIdNotFound, match="1008015"):
            await client.get_push_record("1")
        with pytest.raises(PushIdNotFound, match="no record for push id 2"):
            await client.get_push_record("2")


async def test_utc_offset_is_configurable(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=stats_reply([record("9")]))
    async with make_client(tpns, fake_time, utc_offset="+00:00") as client:
        task = await client.get_push_record("9")
    assert task.date == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


async def test_pagination_reads_every_page(fake_time: FakeTime) -> None:
    pages = [
        stats_reply([record(5), record(4)], count=5),
        stats_reply([record(3), record(2)], count=5),
        stats_reply([record(1)], count=5),
    ]
    tpns = ScriptedTpns(script=list(pages))
    async with make_client(tpns, fake_time) as client:
        tasks = await client.list_push_records(
            start_date=date(2026, 11, 1),
            end_date=date(2026, 11, 21),
            page_size=2,
            msg_type="notify",
        )
    assert [t.push_id for t in tasks] == ["5", "4", "3", "2", "1"]
    assert [(b["offset"], b["limit"]) for b in tpns.bodies()] == [(0, 2), (2, 2), (4, 2)]
    assert tpns.bodies()[0] == {
        "startDate": "2026-11-01",
        "endDate": "2026-11-21",
        "msgType": "notify",
        "offset": 0,
        "limit": 2,
    }
    assert client.calls_made == {GET_PUSH_RECORD: 3}


async def test_pagination_drops_duplicates_and_stops_on_an_empty_page(fake_time: FakeTime) -> None:
    pages = [
        stats_reply([record(6), record(5)], count=9),
        stats_reply([record(5), record(4)], count=9),  # task 6 arrived, shifting the pages
        stats_reply([], count=9),
    ]
    tpns = ScriptedTpns(script=list(pages))
    async with make_client(tpns, fake_time) as client:
        tasks = await client.list_push_records(
            start_date=date(2026, 11, 1), end_date=date(2026, 11, 2), page_size=2, push_type="tag"
        )
    assert [t.push_id for t in tasks] == ["6", "5", "4"]
    assert len(tpns.requests) == 3
    assert tpns.bodies()[0]["pushType"] == "tag"


async def test_page_size_is_checked(fake_time: FakeTime) -> None:
    async with make_client(ScriptedTpns(), fake_time) as client:
        with pytest.raises(ValueError, match="page_size"):
            await client.list_push_records(
                start_date=date(2026, 1, 1), end_date=date(2026, 1, 2), page_size=201
            )


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(503),
        {"retCode": 1008004, "errMsg": "invoke service error"},
        {"retCode": 1008028, "errMsg": "request too fast"},
    ],
    ids=["connect", "timeout", "dropped", "503", "1008004", "1008028"],
)
async def test_reads_retry_transient_failures(
    fake_time: FakeTime, failure: Exception | httpx.Response | dict[str, object]
) -> None:
    tpns = ScriptedTpns(script=[failure, failure], default=stats_reply([record(1)]))
    async with make_client(tpns, fake_time) as client:
        task = await client.get_push_record("1")
    assert task.push_id == "1"
    assert len(tpns.requests) == 3
    assert fake_time.sleeps == [0.5, 1.0]


async def test_backoff_is_capped_and_attempts_are_bounded(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=httpx.Response(503))
    retry = RetryPolicy(attempts=7, base=0.5, cap=3.0)
    async with make_client(tpns, fake_time, retry=retry) as client:
        with pytest.raises(HttpStatusError) as caught:
            await client.get_push_record("1")
    assert caught.value.status_code == 503
    assert caught.value.maybe_delivered is True
    assert len(tpns.requests) == 7
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


async def test_full_jitter_draws_below_the_ceiling(fake_time: FakeTime) -> None:
    tpns = ScriptedTpns(default=httpx.Response(503))
    async with make_client(tpns, fake_time, rng=random.Random(1)) as client:
        with pytest.raises(HttpStatusError):
            await client.get_push_record("1")
    ceilings = [0.5, 1.0, 2.0]
    assert len(fake_time.sleeps) == 3
    assert all(0 <= s <= c for s, c in zip(fake_time.sleeps, ceilings, strict=True))
    assert fake_time.sleeps != ceilings


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(404),
        httpx.Response(200, text="not json"),
        {"retCode": 1008016, "errMsg": "date param format error"},
    ],
    ids=["404", "garbage", "1008016"],
)
async def test_reads_do_not_retry_permanent_failures(
    fake_time: FakeTime, failure: httpx.Response | dict[str, object]
) -> None:
    tpns = ScriptedTpns(script=[failure])
    async with make_client(tpns, fake_time) as client:
        with pytest.raises((HttpStatusError, MalformedResponse, ApiError)):
            await client.get_push_record("1")
    assert len(tpns.requests) == 1
    assert fake_time.sleeps == []


async def test_spent_quota_stops_before_sending(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits=default_limits(statistics_per_hour=3), app="app1")
    tpns = ScriptedTpns(default=stats_reply([record(1)]))
    async with make_client(tpns, fake_time, quota=ledger) as client:
        for _ in range(3):
            await client.get_push_record("1")
        assert client.quota.remaining(GET_PUSH_RECORD) == 0
        with pytest.raises(QuotaExceeded) as caught:
            await client.get_push_record("1")
    assert len(tpns.requests) == 3
    assert "3 of 3 calls used in the last hour" in str(caught.value)
    assert "(in 60 min 0 s)" in str(caught.value)


async def test_retries_spend_quota_too(fake_time: FakeTime) -> None:
    ledger = QuotaLedger(fake_time.clock, limits=default_limits(statistics_per_hour=2))
    tpns = ScriptedTpns(default={"retCode": 1008004, "errMsg": "invoke service error"})
    async with make_client(tpns, fake_time, quota=ledger) as client:
        with pytest.raises(QuotaExceeded):
            await client.get_push_record("1")
    assert len(tpns.requests) == 2
