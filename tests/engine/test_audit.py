"""The audit trail apply writes, and the apply session (locks, pre-flight re-read)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from reconciler.domain.plan import Action
from reconciler.engine.apply_session import ApplyRun, plan_apps, plan_dates, run_apply
from reconciler.errors import LockNotAcquired, StalePlan
from reconciler.records import Intent
from reconciler.state import LockHolder
from reconciler.state.audit import AuditEntry, Provenance, Where, Who, Why

from .conftest import ANDROID, IOS, MUTATING, PUSH_PATH, SECRETS, Harness, push_task


def holder(harness: Harness, lock_id: str) -> LockHolder:
    return LockHolder(
        lock_id=lock_id,
        user="tester",
        host="testhost",
        run_id=lock_id,
        pid=os.getpid(),
        acquired_at=harness.now(),
    )


def apply_run(harness: Harness, run_id: str) -> ApplyRun:
    return ApplyRun(
        run_id=run_id,
        holder=holder(harness, run_id),
        provenance=Provenance(
            who=Who(user="tester", ci_actor="ci-bot"),
            where=Where(host="testhost", ci_run_url="https://ci.example/run/1"),
            why=Why(commit="abc123", pr="42"),
        ),
        lock_timeout=0,
        now=harness.now,
        secrets=list(SECRETS.values()),
    )


async def test_every_call_has_an_intent_and_an_outcome_and_the_chain_verifies(
    harness: Harness,
) -> None:
    harness.write("a", push_task("a"))
    harness.write("b", push_task("b"))
    harness.write("ios", push_task("ios", app=IOS))
    await harness.plan_and_apply()
    harness.write("a", push_task("a", state="stopped"))
    harness.remove("b")
    _, report = await harness.plan_and_apply()
    assert not report.failed
    records = [r.entry for r in harness.store.audit_records()]
    intents = [r for r in records if r.kind == "intent"]
    outcomes = [r for r in records if r.kind == "outcome"]
    calls = [e for e in harness.ledger() if e["path"] in MUTATING]
    assert len(intents) == len(outcomes) == len(calls) == 4

    def key(entry: AuditEntry) -> tuple[str, str | None, str]:
        return entry.run_id, entry.what.address, entry.what.request["path"]

    assert sorted(map(key, intents)) == sorted(map(key, outcomes))
    assert all(o.result is not None and o.result.ret_code == 0 for o in outcomes)
    states = [r for r in records if r.kind == "state"]
    assert [s.what.action for s in states] == [Action.FORGET.value]
    assert all(r.who.user == "tester" and r.why.commit == "abc123" for r in records)
    text = "".join(r.model_dump_json() for r in records)
    assert not any(secret in text for secret in SECRETS.values())
    assert harness.store.verify_audit().ok


async def test_failed_and_resolved_calls_are_audited(harness: Harness) -> None:
    harness.write("a", push_task("a"))
    harness.core.set_faults([{"path": PUSH_PATH, "kind": "http_5xx", "when": "after", "count": 1}])
    await harness.plan_and_apply()
    [outcome] = [r.entry for r in harness.store.audit_records() if r.entry.kind == "outcome"]
    assert outcome.result is not None
    assert "read back: created" in outcome.result.err_msg
    assert outcome.what.request["new_push_id"] == harness.ledger(PUSH_PATH)[0]["push_id"]
    assert harness.store.verify_audit().ok


async def test_run_apply_takes_the_locks_and_rereads_live_status(harness: Harness) -> None:
    harness.write("a", push_task("a"))
    harness.write("ios", push_task("ios", app=IOS))
    plan = await harness.plan()
    assert plan_apps(plan) == [ANDROID, IOS]
    report = await run_apply(
        plan, store=harness.store, clients=harness.clients, run=apply_run(harness, "r1")
    )
    assert not report.failed
    assert harness.store.list_locks() == []
    records = harness.store.audit_records()
    assert {r.entry.why.pr for r in records} == {"42"}
    assert all(r.entry.why.plan_digest for r in records)
    assert (await harness.plan()).is_empty


async def test_run_apply_refuses_while_another_run_holds_a_lock(harness: Harness) -> None:
    harness.write("a", push_task("a"))
    plan = await harness.plan()
    other = holder(harness, "other")
    with harness.store.acquire([ANDROID], other, timeout=0), pytest.raises(LockNotAcquired):
        await run_apply(
            plan, store=harness.store, clients=harness.clients, run=apply_run(harness, "r2")
        )
    assert harness.ledger() == []


async def test_run_apply_refuses_a_plan_whose_task_moved(harness: Harness) -> None:
    harness.write("a", push_task("a"))
    await harness.plan_and_apply()
    harness.write("a", push_task("a", state="stopped"))
    plan = await harness.plan()
    [change] = plan.changes
    assert list(plan_dates(plan)[ANDROID]) == [change.push_id]
    assert change.push_id is not None
    await harness.clients[ANDROID].stop_push_msg(change.push_id)
    calls = harness.ledger()
    with pytest.raises(StalePlan):
        await run_apply(
            plan, store=harness.store, clients=harness.clients, run=apply_run(harness, "r3")
        )
    assert harness.ledger() == calls
    assert harness.store.list_locks() == []


async def test_crashed_intent_resolution_is_audited(harness: Harness) -> None:
    harness.write("a", push_task("a"))
    plan = await harness.plan()
    body = plan.changes[0].api_calls[0].body
    harness.store.open_intent(
        Intent(
            intent_id="crashed:a",
            run_id="crashed",
            address=f"{ANDROID}/a",
            app=ANDROID,
            action="create",
            body_digest="x",
            body=body,
            created_at=harness.now() - timedelta(seconds=1),
        )
    )
    await harness.apply(plan)
    outcomes = [r.entry for r in harness.store.audit_records() if r.entry.kind == "outcome"]
    assert outcomes[0].result is not None
    assert "resolved open intent: not created" in outcomes[0].result.err_msg
    assert harness.store.verify_audit().ok
