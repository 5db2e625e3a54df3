"""Under ~20% injected faults, repeated plan + apply converges and never sends a push twice.

Every mutating call the emulator received was one some plan contained, and the audit log holds
an intent and an outcome for each call apply made.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from reconciler.domain.plan import Plan
from reconciler.errors import PushctlError

from .conftest import ANDROID, IOS, MUTATING, PUSH_PATH, Harness, push_task

TOMORROW = "2026-11-22T09:00:00+08:00"
#: Five kinds at 4% each: about one request in five fails somehow.
FAULTS: list[dict[str, Any]] = [
    {"path": "*", "kind": "http_5xx", "when": "before", "probability": 0.04},
    {"path": "*", "kind": "http_5xx", "when": "after", "probability": 0.04},
    {"path": "*", "kind": "drop", "when": "after", "probability": 0.04},
    {"path": "*", "kind": "ret_code", "ret_code": 1008004, "probability": 0.04},
    {"path": "*", "kind": "ret_code", "ret_code": 1008028, "probability": 0.04},
]
CREATES: dict[str, dict[str, Any]] = {
    "a-flash": {},
    "b-flash": {},
    "c-promo": {"send_time": TOMORROW},
    "d-teaser": {},
    "e-ios": {"app": IOS},
    "f-ios": {"app": IOS},
}


def call_key(path: str, body: Any) -> str:
    return path + " " + json.dumps(body, sort_keys=True)


async def converge_under_faults(harness: Harness, plans: list[Plan], *, runs: int = 3) -> None:
    """Up to `runs` rounds of plan + apply with faults on; then, faults off, a plan is empty."""
    for _ in range(runs):
        try:
            plan = await harness.plan()
        except PushctlError:
            continue
        plans.append(plan)
        if plan.is_empty:
            break
        try:
            await harness.apply(plan)
        except PushctlError:
            continue
    faults = harness.core.faults()
    harness.core.clear_faults()
    final = await harness.plan()
    assert final.is_empty, [(c.address, c.action.value) for c in final.changes]
    harness.core.set_faults(FAULTS, seed=len(faults) + 1)


def assert_only_planned_calls(harness: Harness, plans: list[Plan]) -> None:
    planned = {
        call_key(call.path, call.body) for p in plans for c in p.changes for call in c.api_calls
    }
    sent = [e for e in harness.ledger() if e["path"] in MUTATING]
    assert sent
    for entry in sent:
        assert call_key(entry["path"], entry["body"]) in planned, entry


def assert_each_push_created_once(harness: Harness, titles: list[str]) -> None:
    created = Counter(
        e["body"]["message"]["title"] for e in harness.ledger(PUSH_PATH) if e["push_id"]
    )
    assert created == Counter(titles)


def assert_audit_complete(harness: Harness) -> None:
    records = [r.entry for r in harness.store.audit_records()]
    intents = [r for r in records if r.kind == "intent"]
    outcomes = [r for r in records if r.kind == "outcome"]
    closed = Counter((o.what.address, o.what.request.get("path")) for o in outcomes)
    opened = Counter((i.what.address, i.what.request.get("path")) for i in intents)
    assert opened == closed
    # Each call TPNS received has an intent: pushes by title, task calls by push id.
    pushes = {
        i.what.request["body"]["message"]["title"]
        for i in intents
        if "message" in i.what.request["body"]
    }
    task_calls = {(i.what.request["path"], i.what.push_id) for i in intents}
    for entry in harness.ledger():
        if entry["path"] == PUSH_PATH:
            assert entry["body"]["message"]["title"] in pushes
        else:
            assert (entry["path"], entry["body"]["pushId"]) in task_calls
    assert harness.store.verify_audit().ok


@pytest.mark.parametrize("seed", range(1, 9))
async def test_creates_then_changes_converge_under_faults(harness: Harness, seed: int) -> None:
    harness.concurrency = 1  # concurrent requests would draw faults in thread order
    for name, fields in CREATES.items():
        harness.write(name, push_task(name, **fields))
    harness.core.set_faults(FAULTS, seed=seed)
    plans: list[Plan] = []
    await converge_under_faults(harness, plans)
    assert_each_push_created_once(harness, list(CREATES))

    harness.write("a-flash", push_task("a-flash", state="stopped"))
    harness.write("b-flash", push_task("b-flash", state="recalled"))
    harness.write("c-promo", push_task("c-promo", state="cancelled", send_time=TOMORROW))
    harness.write("d-teaser", push_task("d-teaser", state="overridden", overridden_by="d-fix"))
    harness.write("d-fix", push_task("d-fix"))
    await converge_under_faults(harness, plans)

    assert_each_push_created_once(harness, [*CREATES, "d-fix"])
    assert_only_planned_calls(harness, plans)
    assert_audit_complete(harness)
    assert harness.store.open_intents() == []
    assert sum(1 for e in harness.ledger() if e["fault"]) > 0  # the faults did fire
    assert {ANDROID, IOS} == {b.app for b in harness.store.list_bindings()}
