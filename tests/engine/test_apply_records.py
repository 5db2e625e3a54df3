"""What apply records and reports for a task call and a push: requests, codes, details, logs."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest

from reconciler.engine.apply import (
    ApplyOptions,
    ChangeOutcome,
    apply_plan,
    check_plan_current,
)
from reconciler.errors import PushctlError, StalePlan

from .conftest import ANDROID, PUSH_PATH, Harness, push_task

STOP_PATH = "/v3/push/stop_push_msg"


async def started_then_stopped(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.write("flash", push_task("flash", state="stopped"))


async def test_a_stop_records_its_request_and_reports_the_call_it_made(harness: Harness) -> None:
    await started_then_stopped(harness)
    [binding] = harness.store.snapshot().bindings.values()
    _, report = await harness.plan_and_apply()
    [outcome] = report.outcomes
    assert (outcome.ok, outcome.detail) == (True, "stop_push_msg ok")
    records = [r.entry for r in harness.store.audit_records()]
    [intent] = [e for e in records if e.kind == "intent" and e.what.action == "stop"]
    # The intent names the task-call record that state keeps for it, now closed as done.
    [(call, result)] = harness.store.task_calls()
    assert (call.path, call.push_id, result) == (STOP_PATH, binding.push_id, "done")
    assert intent.what.request == {
        "path": STOP_PATH,
        "body": {"pushId": binding.push_id},
        "call_id": call.call_id,
    }


async def test_a_stop_failed_below_the_envelope_is_recorded_with_code_minus_one(
    harness: Harness,
) -> None:
    await started_then_stopped(harness)
    plan = await harness.plan()
    harness.core.set_faults([{"path": STOP_PATH, "kind": "http_5xx", "when": "before", "count": 1}])
    report = await harness.apply(plan, reread=False)
    [outcome] = report.failed
    records = [r.entry for r in harness.store.audit_records()]
    [stop_outcome] = [e for e in records if e.kind == "outcome" and e.what.action == "stop"]
    assert stop_outcome.result is not None
    assert stop_outcome.result.ret_code == -1
    assert outcome.address.endswith("flash")


async def test_every_outcome_is_handed_to_the_caller_as_it_happens(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    seen: list[ChangeOutcome] = []
    options = ApplyOptions(run_id="run-x", now=harness.now, on_outcome=seen.append)
    report = await apply_plan(
        plan,
        clients=harness.clients,
        store=harness.store,
        audit=harness.audit("run-x"),
        options=options,
    )
    assert seen == report.outcomes
    assert [o.ok for o in seen] == [True]


async def test_each_push_logs_its_intent_before_it_is_sent(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.write("flash", push_task("flash"))
    caplog.set_level(logging.INFO, logger="reconciler.engine.apply")
    await harness.plan_and_apply()
    lines = [r.getMessage() for r in caplog.records if r.name == "reconciler.engine.apply"]
    assert any(
        line.startswith(f"{ANDROID}/flash: intent ")
        and line.endswith(" recorded; POST /v3/push/app")
        for line in lines
    ), lines


async def test_a_push_read_back_after_1008028_is_bound_with_its_live_date(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    harness.core.set_faults(
        [{"path": PUSH_PATH, "kind": "ret_code", "ret_code": 1008028, "when": "after", "count": 1}]
    )
    harness.advance(0.5)  # the intent is written mid-second; TPNS dates the task to the second
    _, report = await harness.plan_and_apply()
    assert not report.failed
    [binding] = harness.store.snapshot().bindings.values()
    live = await harness.clients[ANDROID].get_push_record(binding.push_id)
    assert binding.date == live.date


async def test_a_plan_from_another_pushctl_is_refused_with_the_next_step(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    snapshot = harness.store.snapshot()
    for stale in (
        plan.model_copy(update={"format_version": "2.0"}),
        plan.model_copy(update={"tool_version": "99.0.0"}),
    ):
        with pytest.raises(StalePlan) as caught:
            check_plan_current(
                stale, lineage=snapshot.lineage, serial=snapshot.serial, now=harness.now()
            )
        assert caught.value.hint == "run plan again with this pushctl"
    with pytest.raises(StalePlan, match=r"^plan file format 2\.0 is not readable by pushctl "):
        check_plan_current(
            plan.model_copy(update={"format_version": "2.0"}),
            lineage=snapshot.lineage,
            serial=snapshot.serial,
            now=harness.now(),
        )


async def test_a_plan_with_errors_is_refused_with_where_to_read_them(harness: Harness) -> None:
    harness.write("lost", push_task("lost", app="no-such-app"))
    plan = await harness.plan()
    assert not plan.applyable
    with pytest.raises(PushctlError) as caught:
        await harness.apply(plan)
    assert caught.value.message == "plan has errors and cannot be applied"
    assert caught.value.hint == (
        "fix the diagnostics shown by `pushctl show PLANFILE`, then plan again"
    )


async def test_an_open_intent_keeps_the_digest_of_the_body_it_sent(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    harness.core.set_faults([{"path": PUSH_PATH, "kind": "http_5xx", "when": "before", "count": 1}])
    report = await harness.apply(plan, read_back_grace={ANDROID: 120.0})
    assert report.failed
    [intent] = harness.store.open_intents()
    canonical = json.dumps(intent.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert intent.body_digest == hashlib.sha256(canonical.encode()).hexdigest()
    assert intent.body["message"]["title"] == "flash"


async def test_a_restored_manifest_is_recorded_as_adopted_again(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.remove("flash")
    await harness.plan_and_apply()  # forget: a tombstone keeps the push
    harness.write("flash", push_task("flash"))
    _, report = await harness.plan_and_apply()
    assert not report.failed
    records = [r.entry for r in harness.store.audit_records()]
    [adopt] = [e for e in records if e.kind == "state" and e.what.action == "adopt"]
    assert adopt.result is not None
    assert adopt.result.err_msg == "adopted again: bound before it was forgotten"
