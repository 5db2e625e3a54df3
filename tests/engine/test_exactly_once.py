"""Exactly-once creates: a lost response, a refused request and a crashed run never send twice."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.plan import Action
from reconciler.engine.apply import body_digest
from reconciler.errors import StateError
from reconciler.records import Intent

from .conftest import ACCESS_IDS, ANDROID, PUSH_PATH, RECORD_PATH, Harness, push_task

ADDRESS = f"{ANDROID}/flash"
BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize("kind", ["drop", "http_5xx"])
async def test_lost_response_is_resolved_by_reading_back_in_the_same_run(
    harness: Harness, kind: str
) -> None:
    harness.write("flash", push_task("flash"))
    harness.core.set_faults([{"path": PUSH_PATH, "kind": kind, "when": "after", "count": 1}])
    _plan, report = await harness.plan_and_apply()
    assert not report.failed
    [outcome] = report.outcomes
    assert "confirmed by reading back" in outcome.detail
    [entry] = harness.pushes_titled("flash")
    assert entry["fault"] == kind
    binding = harness.store.get_binding(ADDRESS)
    assert binding is not None
    assert binding.push_id == entry["push_id"] == outcome.push_id
    assert harness.store.open_intents() == []
    assert (await harness.plan()).is_empty
    assert len(harness.ledger(PUSH_PATH)) == 1


async def test_lost_response_resolved_by_the_next_run_when_the_read_back_fails(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()  # the duplicate guard's listing finds nothing: create
    harness.core.set_faults(
        [
            {"path": PUSH_PATH, "kind": "http_5xx", "when": "after", "count": 1},
            # Every read attempt of the in-run read back fails too (3 attempts).
            {"path": RECORD_PATH, "kind": "http_5xx", "when": "before", "count": 3},
        ]
    )
    report = await harness.apply(plan)
    [failed] = report.failed
    assert "cannot resolve" in failed.detail
    [intent] = harness.store.open_intents()
    assert intent.address == ADDRESS
    # Next run: the planner warns about the open intent and plans the create again, but apply
    # resolves the intent first and never sends a second push.
    again = await harness.plan()
    assert [d.code for d in again.diagnostics] == ["intent.open"]
    report = await harness.apply(again)
    assert not report.failed
    assert report.resolved_intents
    assert "found push" in report.resolved_intents[0]
    assert len(harness.pushes_titled("flash")) == 1
    assert len(harness.ledger(PUSH_PATH)) == 1
    assert (await harness.plan()).is_empty


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "http_5xx", "when": "before"},
        {"kind": "drop", "when": "before"},
        {"kind": "ret_code", "ret_code": 1008004, "when": "before"},
    ],
)
async def test_refused_create_closes_the_intent_and_the_next_apply_sends_once(
    harness: Harness, fault: dict[str, object]
) -> None:
    harness.write("flash", push_task("flash"))
    harness.core.set_faults([{"path": PUSH_PATH, "count": 1, **fault}])
    _, report = await harness.plan_and_apply()
    [failed] = report.failed
    assert failed.address == ADDRESS
    assert harness.pushes_titled("flash") == []
    assert harness.store.open_intents() == []
    assert harness.store.get_binding(ADDRESS) is None
    plan, report = await harness.plan_and_apply()
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert not report.failed
    assert len(harness.pushes_titled("flash")) == 1
    assert len(harness.ledger(PUSH_PATH)) == 2  # the refused call and the one that created
    assert (await harness.plan()).is_empty


def crashed_intent(harness: Harness, body: dict[str, object]) -> Intent:
    intent = Intent(
        intent_id="crashed-run:" + ADDRESS,
        run_id="crashed-run",
        address=ADDRESS,
        app=ANDROID,
        action="create",
        body_digest=body_digest(body),
        body=body,
        created_at=harness.now() - timedelta(seconds=5),
    )
    harness.store.open_intent(intent)
    return intent


async def test_intent_of_a_crashed_run_that_created_the_task_is_bound_not_resent(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    crashed_intent(harness, body)
    sent = await harness.clients[ANDROID].push_app(body)  # the crashed run's call got through
    plan, report = await harness.plan_and_apply()
    # The plan already counts on the task the crashed run made: nothing to create.
    assert plan.changes == ()
    assert [d.code for d in plan.diagnostics] == ["intent.open"]
    assert not report.failed
    assert report.resolved_intents == [
        f"{ADDRESS}: interrupted create of run crashed-run: found push {sent.push_id}"
    ]
    assert len(harness.ledger(PUSH_PATH)) == 1
    binding = harness.store.get_binding(ADDRESS)
    assert binding is not None
    assert binding.push_id == sent.push_id
    assert harness.store.open_intents() == []
    assert (await harness.plan()).is_empty


async def test_intent_of_a_crashed_run_that_sent_nothing_is_closed_then_sent_once(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    crashed_intent(harness, body)
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert report.resolved_intents == [
        f"{ADDRESS}: interrupted create of run crashed-run: no task was created"
    ]
    # The resolve read came before the one push.
    assert [e["path"] for e in harness.ledger()] == [PUSH_PATH]
    assert len(harness.pushes_titled("flash")) == 1
    assert harness.store.open_intents() == []
    assert (await harness.plan()).is_empty


async def test_resolving_a_crashed_intent_does_not_claim_a_task_bound_elsewhere(
    harness: Harness,
) -> None:
    # Two declared tasks with the same content: the one already bound is not the crashed one.
    harness.write("flash", push_task("flash", title="Same"))
    await harness.plan_and_apply()
    first = harness.store.get_binding(ADDRESS)
    assert first is not None
    harness.write("flash-2", push_task("flash-2", title="Same"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    intent = crashed_intent(harness, body)
    harness.store.close_intent(intent.intent_id, push_id=None, outcome="test")
    other = intent.model_copy(
        update={"intent_id": "crashed-run:x", "address": f"{ANDROID}/flash-2"}
    )
    harness.store.open_intent(other)
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert "no task was created" in report.resolved_intents[0]
    assert len(harness.pushes_titled("Same")) == 2


async def test_lost_response_of_a_push_scheduled_late_in_the_window_is_found(
    harness: Harness,
) -> None:
    # 20:00 UTC is 04:00 next day in Beijing: the TPNS date of a push scheduled 89 days and
    # 23 hours ahead is a day past the UTC date of "90 days from now".
    harness.advance(19 * 3600)
    harness.write("later", push_task("later", send_time="2027-02-20T03:00:00+08:00"))
    harness.core.set_faults([{"path": PUSH_PATH, "kind": "http_5xx", "when": "after", "count": 1}])
    _, report = await harness.plan_and_apply()
    assert not report.failed, report.failed
    assert (await harness.plan()).is_empty
    assert len(harness.ledger(PUSH_PATH)) == 1


class CrashAfterSend:
    """A state store that dies the first time apply records a new binding (after the send)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put_binding(self, binding: Any) -> None:
        if not self.crashed:
            self.crashed = True
            raise StateError("simulated crash: the process died after the push was sent")
        self.inner.put_binding(binding)


async def test_crash_between_send_and_record_is_resolved_without_resending(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    real = harness.store
    harness.store = CrashAfterSend(real)  # type: ignore[assignment]
    _, report = await harness.plan_and_apply()
    harness.store = real
    [failed] = report.failed
    assert "simulated crash" in failed.detail
    [intent] = real.open_intents()
    assert intent.address == ADDRESS
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert "found push" in report.resolved_intents[0]
    assert len(harness.ledger(PUSH_PATH)) == 1
    assert (await harness.plan()).is_empty


async def test_override_resolved_next_run_is_audited_under_the_overridden_address(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.write(
        "flash",
        push_task("flash", state="overridden", overridden_by="flash-v2"),
        push_task("flash-v2", title="flash fixed"),
    )
    plan = await harness.plan()
    harness.core.set_faults(
        [
            {"path": PUSH_PATH, "kind": "http_5xx", "when": "after", "count": 1},
            # Apply's pre-flight read passes (a no-op fault uses the first turn); the
            # in-run read back then fails on every attempt, so the next run must resolve it.
            {"path": RECORD_PATH, "kind": "latency", "latency_ms": 0, "count": 1},
            {"path": RECORD_PATH, "kind": "http_5xx", "when": "before", "count": 3},
        ]
    )
    report = await harness.apply(plan)
    assert len(report.failed) == 1
    [intent] = harness.store.open_intents()
    assert (intent.address, intent.change_address) == (f"{ANDROID}/flash-v2", ADDRESS)

    await harness.apply(await harness.plan())
    assert len(harness.pushes_titled("flash fixed")) == 1
    records = [r.entry for r in harness.store.audit_records(address=ADDRESS)]
    pushes = [r for r in records if r.what.action == "override"]
    assert [r.kind for r in pushes] == ["intent", "outcome"]
    resolved = pushes[-1]
    assert resolved.result is not None
    assert "resolved open intent: created as push" in resolved.result.err_msg
    assert resolved.what.request["new_address"] == f"{ANDROID}/flash-v2"


async def test_cancel_is_planned_for_a_task_an_interrupted_create_made(harness: Harness) -> None:
    later = (harness.now() + timedelta(days=2)).astimezone(BEIJING).isoformat(timespec="seconds")
    harness.write("flash", push_task("flash", audience="all", send_time=later))
    body = (await harness.plan()).changes[0].api_calls[0].body
    crashed_intent(harness, body)
    await harness.clients[ANDROID].push_app(body)  # it got through; the answer was lost
    harness.write("flash", push_task("flash", audience="all", send_time=later, state="cancelled"))
    plan, report = await harness.plan_and_apply()
    assert [c.action for c in plan.changes] == [Action.CANCEL]
    assert not report.failed
    [entry] = harness.pushes_titled("flash")
    assert harness.task(entry["push_id"])["status"] == "PUSH_CANCELED"
    assert (await harness.plan()).is_empty


async def test_a_look_alike_task_to_another_audience_is_not_taken_for_the_lost_create(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    crashed_intent(harness, body)  # the crashed run sent nothing
    testers = {
        **body,
        "tag_rules": [
            {
                **body["tag_rules"][0],
                "tag_items": [
                    {**body["tag_rules"][0]["tag_items"][0], "tags": ["internal-testers"]}
                ],
            }
        ],
    }
    foreign = harness.core.seed_task(ACCESS_IDS[ANDROID], testers)
    _, report = await harness.plan_and_apply()
    assert "no task was created" in report.resolved_intents[0]
    binding = harness.store.get_binding(ADDRESS)
    assert binding is not None
    assert binding.push_id != foreign
    assert len(harness.ledger(PUSH_PATH)) == 1  # the vip push, sent once


async def test_two_identical_candidates_are_not_guessed_between(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    crashed_intent(harness, body)
    await harness.clients[ANDROID].push_app(body)
    harness.advance(1)
    await harness.clients[ANDROID].push_app(body)
    # The plan refuses to guess (the duplicate guard sees two unclaimed copies) ...
    plan = await harness.plan()
    assert not plan.applyable
    assert [d.code for d in plan.diagnostics if d.severity == "error"] == ["guard.ambiguous"]
    # ... and so does apply's read-back of the open intent, with any plan.
    report = await harness.apply(plan.model_copy(update={"changes": (), "applyable": True}))
    assert "cannot tell which of pushes" in report.resolved_intents[0]
    assert len(harness.store.open_intents()) == 1
    assert len(harness.ledger(PUSH_PATH)) == 2  # only the two made outside this apply


async def test_a_lost_create_is_not_judged_absent_before_the_grace_period(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    harness.core.set_faults([{"path": PUSH_PATH, "kind": "http_5xx", "when": "before", "count": 1}])
    report = await harness.apply(plan, read_back_grace={ANDROID: 120.0})
    [failed] = report.failed
    assert "may still show up" in failed.detail
    assert len(harness.store.open_intents()) == 1
    # Still within the grace period: nothing is concluded, nothing is sent.
    harness.advance(60)
    report = await harness.apply(await harness.plan(), read_back_grace={ANDROID: 120.0})
    assert report.failed
    assert len(harness.ledger(PUSH_PATH)) == 1  # only the first, refused, attempt
    # After it: the create is known not to have happened, and is sent once.
    harness.advance(61)
    report = await harness.apply(await harness.plan(), read_back_grace={ANDROID: 120.0})
    assert not report.failed
    assert "no task was created" in report.resolved_intents[0]
    assert len(harness.store.open_intents()) == 0
    assert [e["ret_code"] for e in harness.ledger(PUSH_PATH)] == [None, 0]
