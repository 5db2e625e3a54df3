"""The /_emulator/ admin surface, its loopback guard, and the HTTP-level 404 / 405."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from reconciler.emulator import EmulatorCore, create_app

from .conftest import ANDROID, START, Tpns, notify


async def test_apps_tasks_ledger_round_trip(tpns: Tpns, core: EmulatorCore) -> None:
    client = tpns.client
    response = await client.post(
        "/_emulator/apps",
        json={
            "access_id": "1500000002",
            "secret": "s2",
            "platform": "android",
            "recall_enabled": True,
        },
    )
    assert response.json() == {"access_id": "1500000002"}
    app = core.app("1500000002")
    assert app is not None
    assert (app.recall_enabled, app.rate_limits) == (True, True)
    seeded = await client.post(
        "/_emulator/tasks",
        json={
            "access_id": ANDROID.access_id,
            "body": notify("tag"),
            "status": "PUSH_FINISHED",
            "created_at": (START - timedelta(hours=1)).isoformat(),
        },
    )
    push_id = seeded.json()["push_id"]
    assert (await tpns.record(push_id))["status"] == "PUSH_FINISHED"
    listed = (await client.get("/_emulator/tasks", params={"access_id": "1500000002"})).json()
    assert listed == {"tasks": []}
    [task] = (await client.get("/_emulator/tasks")).json()["tasks"]
    assert (task["pushId"], task["accessId"], task["audienceType"]) == (
        push_id,
        ANDROID.access_id,
        "tag",
    )
    assert (await client.get("/_emulator/ledger")).json() == {"ledger": []}  # seeding is not a call
    await tpns.push(notify("token", seq=4))
    [entry] = (await client.get("/_emulator/ledger")).json()["ledger"]
    assert entry == {
        "seq": 1,
        "time": START.isoformat(),
        "access_id": ANDROID.access_id,
        "path": "/v3/push/app",
        "body": notify("token", seq=4),
        "ret_code": 0,
        "push_id": "100000002",
        "fault": None,
    }


async def test_every_mutating_call_is_in_the_ledger_queries_are_not(tpns: Tpns) -> None:
    push_id = (await tpns.push(notify("tag", send_time="2026-11-20 11:00:00")))["push_id"]
    await tpns.post("/v3/push/stop_push_msg", {"pushId": push_id})
    await tpns.post("/v3/push/revoke_push_msg", {"pushId": push_id})
    await tpns.post("/v3/push/cancel_timing_task", {"pushId": push_id})
    await tpns.record(push_id)
    await tpns.client.post("/v3/push/app", content=b"{broken")
    ledger = (await tpns.client.get("/_emulator/ledger")).json()["ledger"]
    assert [(e["path"].rsplit("/", 1)[1], e["ret_code"]) for e in ledger] == [
        ("app", 0),
        ("stop_push_msg", 1008007),
        ("revoke_push_msg", 1008007),
        ("cancel_timing_task", 0),
        ("app", 1008003),
    ]
    assert ledger[-1]["body"] == "{broken"
    assert ledger[-1]["access_id"] == ""
    assert [e["seq"] for e in ledger] == [1, 2, 3, 4, 5]


async def test_clock_advance_and_set(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_emulator/clock")).json() == {"now": START.isoformat()}
    advanced = await client.post("/_emulator/clock", json={"advance": 90})
    assert advanced.json() == {"now": (START + timedelta(seconds=90)).isoformat()}
    moved = await client.post("/_emulator/clock", json={"set": "2026-12-01T09:00:00+08:00"})
    assert moved.json() == {"now": "2026-12-01T01:00:00+00:00"}
    bad = await client.post("/_emulator/clock", json={"rewind": 5})
    assert bad.status_code == 400
    assert (await client.post("/_emulator/clock", json={"advance": -5})).status_code == 400
    assert (
        await client.post("/_emulator/clock", json={"set": "2026-12-01T09:00"})
    ).status_code == 400


async def test_reset_forgets_tasks_ledger_and_faults_but_keeps_apps(
    tpns: Tpns, core: EmulatorCore
) -> None:
    await tpns.push(notify("token"))
    await tpns.client.post("/_emulator/faults", json={"faults": [{"path": "*", "kind": "drop"}]})
    assert (await tpns.client.post("/_emulator/reset")).json() == {"reset": True}
    assert (core.tasks(), core.ledger(), core.faults()) == ([], [], [])
    assert (await tpns.push(notify("token")))["push_id"] == "100000001"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/_emulator/apps", {"access_id": "1", "secret": "s", "platform": "windows"}),
        ("/_emulator/apps", {"access_id": "1"}),
        ("/_emulator/tasks", {"access_id": "nobody", "body": notify()}),
        ("/_emulator/tasks", {"access_id": ANDROID.access_id, "body": {}}),
        ("/_emulator/tasks", {"access_id": ANDROID.access_id, "body": notify(), "status": "NEW"}),
    ],
)
async def test_bad_admin_input_is_400(
    client: httpx.AsyncClient, path: str, payload: object
) -> None:
    response = await client.post(path, json=payload)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_admin_body_must_be_a_json_object(client: httpx.AsyncClient) -> None:
    for content in (b"[]", b"nope"):
        response = await client.post("/_emulator/apps", content=content)
        assert response.status_code == 400


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.2", "example.org"])
async def test_admin_refuses_non_loopback_clients(core: EmulatorCore, host: str) -> None:
    transport = httpx.ASGITransport(app=create_app(core), client=(host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        for method, path in [("GET", "/_emulator/ledger"), ("POST", "/_emulator/reset")]:
            response = await client.request(method, path)
            assert response.status_code == 403
            assert host in response.json()["error"]
        # The TPNS API itself is served to anyone who can reach the socket.
        assert (await client.post("/v3/push/app", content=b"{}")).json()["ret_code"] == 1008003


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "127.8.9.1", "localhost"])
async def test_admin_accepts_loopback_clients(core: EmulatorCore, host: str) -> None:
    transport = httpx.ASGITransport(app=create_app(core), client=(host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        assert (await client.get("/_emulator/ledger")).status_code == 200


async def test_unknown_path_and_wrong_method(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v3/push/nothing", content=b"{}")).status_code == 404
    assert (await client.post("/v3/statistics/get_push_task_stat_channel")).status_code == 404
    assert (await client.get("/v3/push/app")).status_code == 405
    assert (await client.put("/v3/statistics/get_push_record")).status_code == 405
    assert (await client.delete("/_emulator/ledger")).status_code == 405


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5"])
async def test_an_admin_token_is_required_from_every_client(core: EmulatorCore, host: str) -> None:
    transport = httpx.ASGITransport(app=create_app(core, admin_token="s3cret"), client=(host, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            response = await client.get("/_emulator/ledger", headers=headers)
            assert response.status_code == 401
            assert response.json() == {
                "error": "/_emulator/ needs the header `Authorization: Bearer <admin token>`"
            }
        granted = await client.get("/_emulator/ledger", headers={"Authorization": "Bearer s3cret"})
        assert granted.json() == {"ledger": []}
