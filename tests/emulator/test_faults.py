"""Injected faults: before/after commit, every kind, count, seeded probability, the ledger."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconciler.emulator import ConnectionDropped, EmulatorCore

from .conftest import ANDROID, SleepRecorder, Tpns, notify, signed_headers

PUSH = "/v3/push/app"


async def _set(client: httpx.AsyncClient, *faults: dict[str, Any], seed: int | None = None) -> Any:
    payload: dict[str, Any] = {"faults": list(faults)}
    if seed is not None:
        payload["seed"] = seed
    response = await client.post("/_emulator/faults", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


async def _raw_push(tpns: Tpns, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = signed_headers(ANDROID, raw, int(tpns.clock.now().timestamp()))
    return await tpns.client.post(PUSH, content=raw, headers=headers)


async def test_ret_code_before_commit_changes_nothing(tpns: Tpns, core: EmulatorCore) -> None:
    await _set(tpns.client, {"path": PUSH, "kind": "ret_code", "ret_code": 1008004, "count": 1})
    reply = await tpns.push(notify("token", seq=5))
    assert reply == {"seq": 5, "ret_code": 1008004, "err_msg": "invoke service error"}
    assert core.tasks() == []
    [entry] = core.ledger()
    assert entry["path"] == PUSH
    assert entry["access_id"] == ANDROID.access_id
    assert (entry["ret_code"], entry["push_id"], entry["fault"]) == (1008004, None, "ret_code")
    assert entry["body"]["seq"] == 5
    assert (await tpns.push(notify("token")))["ret_code"] == 0  # count 1: the fault is gone


async def test_ret_code_after_commit_keeps_the_change(tpns: Tpns, core: EmulatorCore) -> None:
    await _set(
        tpns.client, {"path": PUSH, "kind": "ret_code", "ret_code": 1008028, "when": "after"}
    )
    reply = await tpns.push(notify("token"))
    assert reply["ret_code"] == 1008028
    assert "push_id" not in reply
    [task] = core.tasks()
    [entry] = core.ledger()
    assert (entry["ret_code"], entry["push_id"], entry["fault"]) == (0, task["pushId"], "ret_code")


@pytest.mark.parametrize(("when", "tasks"), [("before", 0), ("after", 1)])
async def test_http_5xx(tpns: Tpns, core: EmulatorCore, when: str, tasks: int) -> None:
    await _set(tpns.client, {"path": "*", "kind": "http_5xx", "status": 502, "when": when})
    response = await _raw_push(tpns, notify("token"))
    assert response.status_code == 502
    assert len(core.tasks()) == tasks
    assert core.ledger()[0]["fault"] == "http_5xx"


@pytest.mark.parametrize(("when", "tasks"), [("before", 0), ("after", 1)])
async def test_drop_is_a_transport_error(
    tpns: Tpns, core: EmulatorCore, when: str, tasks: int
) -> None:
    await _set(tpns.client, {"path": PUSH, "kind": "drop", "when": when})
    with pytest.raises(httpx.RemoteProtocolError) as raised:
        await _raw_push(tpns, notify("token"))
    assert isinstance(raised.value, ConnectionDropped)
    assert len(core.tasks()) == tasks
    assert len(core.ledger()) == 1


@pytest.mark.parametrize("when", ["before", "after"])
async def test_latency_uses_the_injected_sleep(
    tpns: Tpns, sleeps: SleepRecorder, core: EmulatorCore, when: str
) -> None:
    await _set(tpns.client, {"path": PUSH, "kind": "latency", "latency_ms": 250, "when": when})
    assert (await tpns.push(notify("token")))["ret_code"] == 0
    assert sleeps.delays == [0.25]
    assert core.ledger()[0]["fault"] == "latency"


async def test_star_matches_statistics_with_camel_case_envelope(tpns: Tpns) -> None:
    await _set(tpns.client, {"path": "*", "kind": "ret_code", "ret_code": 1008028})
    reply = await tpns.post("/v3/statistics/get_push_record", {"pushId": "1"})
    assert reply == {"retCode": 1008028, "errMsg": "request too fast"}


async def test_a_fault_on_another_path_does_not_fire(tpns: Tpns) -> None:
    await _set(tpns.client, {"path": "/v3/push/stop_push_msg", "kind": "ret_code"})
    assert (await tpns.push(notify("token")))["ret_code"] == 0


async def test_count_wears_off_and_is_reported(tpns: Tpns) -> None:
    listed = await _set(tpns.client, {"path": PUSH, "kind": "ret_code", "count": 2})
    assert listed["faults"][0]["count"] == 2
    codes = [(await tpns.push(notify("token")))["ret_code"] for _ in range(3)]
    assert codes == [1008004, 1008004, 0]
    assert (await tpns.client.get("/_emulator/faults")).json() == {"faults": []}


async def test_before_and_after_faults_fire_together(
    tpns: Tpns, core: EmulatorCore, sleeps: SleepRecorder
) -> None:
    await _set(
        tpns.client,
        {"path": PUSH, "kind": "latency", "latency_ms": 10},
        {"path": PUSH, "kind": "http_5xx", "when": "after"},
    )
    response = await _raw_push(tpns, notify("token"))
    assert response.status_code == 503
    assert sleeps.delays == [0.01]
    assert core.ledger()[0]["fault"] == "latency,http_5xx"
    assert len(core.tasks()) == 1


async def test_probability_is_seeded(tpns: Tpns) -> None:
    async def outcomes() -> list[int]:
        await _set(tpns.client, {"path": PUSH, "kind": "ret_code", "probability": 0.5}, seed=7)
        return [(await tpns.push(notify("token")))["ret_code"] for _ in range(12)]

    first = await outcomes()
    assert await outcomes() == first
    assert set(first) == {0, 1008004}
    await _set(tpns.client, {"path": PUSH, "kind": "ret_code", "probability": 0.0})
    assert (await tpns.push(notify("token")))["ret_code"] == 0


async def test_delete_clears_faults(tpns: Tpns) -> None:
    await _set(tpns.client, {"path": PUSH, "kind": "ret_code"})
    response = await tpns.client.delete("/_emulator/faults")
    assert response.json() == {"faults": []}
    assert (await tpns.push(notify("token")))["ret_code"] == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"faults": [{"path": PUSH, "kind": "fire"}]}, "fault kind"),
        ({"faults": [{"path": "v3", "kind": "drop"}]}, "fault path"),
        ({"faults": [{"path": PUSH, "kind": "drop", "when": "during"}]}, "fault when"),
        ({"faults": [{"path": PUSH, "kind": "drop", "probability": 2}]}, "probability"),
        ({"faults": [{"path": PUSH, "kind": "drop", "count": 0}]}, "count"),
        ({"faults": [{"path": PUSH, "kind": "http_5xx", "status": 404}]}, "status"),
        ({"faults": [{"path": PUSH, "kind": "latency", "latency_ms": -1}]}, "latency_ms"),
        ({"faults": [{"path": PUSH, "kind": "drop", "colour": 1}]}, "unknown fault fields"),
        ({"faults": ["drop"]}, "must be an object"),
        ({"faults": "drop"}, "list of faults"),
    ],
)
async def test_bad_fault_specs_are_400(
    client: httpx.AsyncClient, payload: dict[str, Any], message: str
) -> None:
    response = await client.post("/_emulator/faults", json=payload)
    assert response.status_code == 400
    assert message in response.json()["error"]
