"""A scripted TPNS stand-in for httpx.MockTransport: answers in order, records requests."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler.tpns.auth import Secret
from reconciler.tpns.client import TpnsClient
from reconciler.tpns.quota import QuotaLedger
from reconciler.tpns.retry import RetryPolicy

#: A secret that must never show up in any message, repr or log line.
CANARY = "canary-5ecret-0f-the-tpns-app-4242"


@dataclass
class FakeTime:
    """Unix time that moves only when the code under test sleeps."""

    now: float = 1_790_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


#: One scripted answer: a JSON envelope (HTTP 200), an httpx.Response, or an exception.
Answer = dict[str, Any] | httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

OK_PUSH: dict[str, Any] = {"seq": 0, "ret_code": 0, "err_msg": "", "push_id": "3895624686"}
OK_STATS: dict[str, Any] = {"retCode": 0, "errMsg": "NO_ERROR"}


class MaxRandom(random.Random):
    """Full jitter always draws its ceiling, so tests can read the backoff caps."""

    def uniform(self, a: float, b: float) -> float:
        return b


@dataclass
class ScriptedTpns:
    """Pops one answer per request; with the script empty, answers `default`."""

    script: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=lambda: dict(OK_STATS))
    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    time: FakeTime | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.time is not None:
            self.times.append(self.time.now)
        answer = self.script.pop(0) if self.script else self.default
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        if callable(answer):
            return answer(request)
        return httpx.Response(200, json=answer)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def make_client(
    tpns: ScriptedTpns,
    time: FakeTime,
    *,
    secret: Secret | None = None,
    auth: str = "signature",
    rng: random.Random | None = None,
    quota: QuotaLedger | None = None,
    retry: RetryPolicy | None = None,
    utc_offset: str = "+08:00",
) -> TpnsClient:
    tpns.time = time
    return TpnsClient(
        access_id="1500001048",
        secret=secret or Secret("1452fcebae9f3115ba794fb0fff2fd73"),
        base_url="https://api.tpns.tencent.com",
        auth="basic" if auth == "basic" else "signature",
        transport=httpx.MockTransport(tpns),
        clock=time.clock,
        sleep=time.sleep,
        rng=rng or MaxRandom(7),
        quota=quota,
        retry=retry or RetryPolicy(attempts=4, base=0.5, cap=2.0),
        utc_offset=utc_offset,
    )


def stats_reply(records: list[dict[str, Any]], *, count: int | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {**OK_STATS, "pushRecordData": records}
    if count is not None:
        reply["count"] = count
    return reply


def record(push_id: str | int, *, status: str = "PUSH_FINISHED") -> dict[str, Any]:
    return {
        "pushId": push_id,
        "status": status,
        "date": "2026-11-21 09:30:00",
        "pushType": "tag",
        "messageType": "notify",
        "title": "t",
        "content": "c",
        "environment": "product",
        "expireTime": 86400,
        "collapseID": 12,
    }
