"""End to end over real loopback HTTP: uvicorn in a thread, httpx with a real signature."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from reconciler.emulator import EmulatorCore, ManualClock
from reconciler.emulator import server as server_module
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


@contextmanager
def served_connection(core: EmulatorCore) -> Iterator[tuple[uvicorn.Server, httpx.Client]]:
    """The uvicorn server behind `running_server`, and a client with one call answered."""
    sock = server_module._bind("127.0.0.1", 0)
    server = server_module._server(core, None)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=server_module._base_url(sock)) as client:
            assert client.get("/_emulator/clock").status_code == 200
            yield server, client
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def test_answers_are_sent_at_once_not_after_a_delayed_ack() -> None:
    # Without TCP_NODELAY on the accepted socket, an answer written in two parts waits for
    # the client's delayed ACK of the first: 40 ms a call on Linux loopback.
    with served_connection(EmulatorCore()) as (server, _client):
        (connection,) = server.server_state.connections
        sock = connection.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not built for Windows")
def test_the_emulator_is_served_by_httptools_on_uvloop() -> None:
    import uvloop

    with served_connection(EmulatorCore()) as (server, _client):
        (connection,) = server.server_state.connections
        assert type(connection).__name__ == "HttpToolsProtocol"
        assert isinstance(connection.loop, uvloop.Loop)
