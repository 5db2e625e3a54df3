"""Fixtures: a ManualClock-driven in-memory emulator and a signing client over ASGITransport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from reconciler.emulator import (
    AppSpec,
    EmulatorCore,
    EmulatorSettings,
    ManualClock,
    compute_sign,
    create_app,
)

ANDROID = AppSpec(access_id="1500001048", secret="android-secret", platform="android")
IOS = AppSpec(access_id="1600001048", secret="ios-secret", platform="ios")
START = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)  # 10:00:00 in Beijing


def signed_headers(app: AppSpec, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "AccessId": app.access_id,
        "TimeStamp": str(timestamp),
        "Sign": compute_sign(app.secret, str(timestamp), app.access_id, body),
        "Content-Type": "application/json",
    }


def call_core(
    core: EmulatorCore, path: str, body: dict[str, object], *, app: AppSpec = ANDROID
) -> int:
    """Call `path` on the core with a valid signature; return the ret_code or retCode."""
    raw = json.dumps(body).encode()
    payload = core.handle(path, signed_headers(app, raw, int(core.now().timestamp())), raw).payload
    code = payload.get("ret_code", payload.get("retCode"))
    assert isinstance(code, int)
    return code


class SleepRecorder:
    """Stands in for asyncio.sleep: records the delays latency faults ask for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Tpns:
    """Signs and posts API calls to the in-process emulator."""

    def __init__(self, client: httpx.AsyncClient, clock: ManualClock) -> None:
        self.client = client
        self.clock = clock

    async def post(self, path: str, body: dict[str, Any] | bytes, app: AppSpec = ANDROID) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = signed_headers(app, raw, int(self.clock.now().timestamp()))
        response = await self.client.post(path, content=raw, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def push(self, body: dict[str, Any], app: AppSpec = ANDROID) -> Any:
        return await self.post("/v3/push/app", body, app)

    async def upload(self, name: str, data: bytes, app: AppSpec = ANDROID) -> Any:
        """A signed multipart upload with a `file` part, as the SDKs send it."""
        raw, content_type = multipart_file(name, data)
        headers = signed_headers(app, raw, int(self.clock.now().timestamp()))
        headers["Content-Type"] = content_type
        response = await self.client.post(UPLOAD, content=raw, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def package(self, audience: str, app: AppSpec = ANDROID, **extra: Any) -> Any:
        """A package push body naming a package just uploaded for it."""
        entries = ["t" * 36] if audience == "package_token_push" else ["alice", "bob"]
        reply = await self.upload("package.txt", "\n".join(entries).encode(), app)
        return notify(audience, upload_id=reply["uploadId"], **extra)

    async def record(self, push_id: str, app: AppSpec = ANDROID) -> dict[str, Any]:
        reply = await self.post("/v3/statistics/get_push_record", {"pushId": push_id}, app)
        assert reply["retCode"] == 0, reply
        record: dict[str, Any] = reply["pushRecordData"][0]
        return record


UPLOAD = "/v3/push/package/upload"


def multipart_file(name: str, data: bytes) -> tuple[bytes, str]:
    """(body, Content-Type) of a multipart/form-data request with one `file` part."""
    request = httpx.Request("POST", "http://emulator" + UPLOAD, files={"file": (name, data)})
    return request.read(), request.headers["content-type"]


def notify(audience: str = "all", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "audience_type": audience,
        "message_type": "notify",
        "message": {"title": "Sale", "content": "Black Friday starts now"},
    }
    if audience == "tag":
        body["tag_list"] = {"tags": ["vip"], "op": "OR"}
    if audience in ("token", "token_list"):
        body["token_list"] = ["t" * 36]
    if audience in ("account", "account_list"):
        body["account_list"] = ["alice"]
    if audience.startswith("package_"):
        body["upload_id"] = 42
    body.update(extra)
    return body


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings() -> EmulatorSettings:
    return EmulatorSettings()


@pytest.fixture
def core(clock: ManualClock, settings: EmulatorSettings) -> Iterator[EmulatorCore]:
    core = EmulatorCore(clock=clock, settings=settings)
    core.add_app(ANDROID)
    core.add_app(IOS)
    yield core
    core.close()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def client(core: EmulatorCore, sleeps: SleepRecorder) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(core, sleep=sleeps))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client


@pytest.fixture
def tpns(client: httpx.AsyncClient, clock: ManualClock) -> Tpns:
    return Tpns(client, clock)
