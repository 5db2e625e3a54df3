"""End to end over real loopback HTTP: uvicorn in a thread, httpx with a real signature."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorCore, ManualClock
from reconciler.emulator.server import is_loopback_host, running_server

from .conftest import ANDROID, START, notify, signed_headers


def _call(client: httpx.Client, clock: ManualClock, path: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    headers = signed_headers(ANDROID, raw, int(clock.now().timestamp()))
    response = client.post(path, content=raw, headers=headers)
    assert response.status_code == 200
    return response.json()


def test_push_query_stop_cancel_over_loopback() -> None:
    clock = ManualClock(START)
    core = EmulatorCore(clock=clock)
    core.add_app(ANDROID)
    with running_server(core) as base_url, httpx.Client(base_url=base_url) as client:
        assert base_url.startswith("http://127.0.0.1:")
        pushed = _call(client, clock, "/v3/push/app", notify())
        assert pushed["ret_code"] == 0
        record = _call(
            client, clock, "/v3/statistics/get_push_record", {"pushId": pushed["push_id"]}
        )
        assert record["pushRecordData"][0]["status"] == "PUSH_STARTED"
        stopped = _call(client, clock, "/v3/push/stop_push_msg", {"pushId": pushed["push_id"]})
        assert stopped == {"seq": 0, "ret_code": 0, "err_msg": "NO_ERROR"}
        clock.advance(1)
        scheduled = _call(
            client, clock, "/v3/push/app", notify("tag", send_time="2026-11-20 12:00:00")
        )
        cancelled = _call(
            client, clock, "/v3/push/cancel_timing_task", {"pushid": scheduled["push_id"]}
        )
        assert cancelled["ret_code"] == 0
        statuses = {
            t["pushId"]: t["status"] for t in client.get("/_emulator/tasks").json()["tasks"]
        }
        assert statuses == {
            pushed["push_id"]: "PUSH_DELETED_PUSH_MSG",
            scheduled["push_id"]: "PUSH_CANCELED",
        }
        assert len(client.get("/_emulator/ledger").json()["ledger"]) == 4


def test_drop_over_loopback_is_a_protocol_error() -> None:
    clock = ManualClock(START)
    core = EmulatorCore(clock=clock)
    core.add_app(ANDROID)
    core.set_faults([{"path": "/v3/push/app", "kind": "drop", "when": "after", "count": 1}])
    with running_server(core) as base_url, httpx.Client(base_url=base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            _call(client, clock, "/v3/push/app", notify("token"))
        assert len(core.tasks()) == 1  # the change was committed before the drop
        assert _call(client, clock, "/v3/push/app", notify("token"))["ret_code"] == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("192.168.1.10", False), ("example.org", False), ("::", False)],
)  # fmt: skip
def test_loopback_hosts_are_told_apart(host: str, *, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_a_non_loopback_host_is_served_with_the_admin_token_required() -> None:
    clock = ManualClock(START)
    core = EmulatorCore(clock=clock)
    core.add_app(ANDROID)
    with running_server(core, host="0.0.0.0", admin_token="t0ken") as base_url:
        assert base_url.startswith("http://0.0.0.0:")
        port = base_url.rsplit(":", 1)[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert _call(client, clock, "/v3/push/app", notify("token"))["ret_code"] == 0
            assert client.get("/_emulator/ledger").status_code == 401
            authorized = {"Authorization": "Bearer t0ken"}
            ledger = client.get("/_emulator/ledger", headers=authorized).json()["ledger"]
            assert [entry["ret_code"] for entry in ledger] == [0]
