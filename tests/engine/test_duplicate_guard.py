"""The duplicate guard and the read-back of lost creates, in process against the emulator.

Each test counts what the emulator created: a declared push exists once, whatever happened to
pushctl's state, TPNS's clock or the answer to the request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reconciler.domain.plan import Action
from reconciler.engine.ports import PushAccepted
from reconciler.errors import OutcomeUnknown
from reconciler.records import StateSnapshot

from .conftest import ANDROID, PUSH_PATH, Harness, push_task
from .test_exactly_once import crashed_intent

ADDRESS = f"{ANDROID}/flash"


def forget_everything(harness: Harness) -> None:
    """The state is lost (a fresh CI runner): a new store in another file."""
    from reconciler.state import open_store

    harness.store.close()
    harness.store = open_store("sqlite:lost-and-new.db", base_dir=harness.tmp_path)
    assert harness.store.snapshot().bindings == {}


async def test_lost_state_adopts_the_live_push_with_a_warning(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    [sent] = harness.pushes_titled("flash")
    forget_everything(harness)

    plan = await harness.plan()
    [adopt] = plan.changes
    assert (adopt.address, adopt.action, adopt.push_id) == (ADDRESS, Action.ADOPT, sent["push_id"])
    [warning] = plan.diagnostics
    assert warning.code == "guard.recognised"
    assert str(sent["push_id"]) in warning.message
    report = await harness.apply(plan)
    assert not report.failed
    binding = harness.store.get_binding(ADDRESS)
    assert binding is not None
    assert binding.created_by_pushctl
    assert binding.body == adopt.after["push"] if adopt.after else False
    assert len(harness.pushes_titled("flash")) == 1
    again = await harness.plan()
    assert again.is_empty
    assert again.diagnostics == ()


async def test_a_push_with_the_content_of_a_bound_task_is_created(harness: Harness) -> None:
    harness.write("digest", push_task("digest-w1", title="digest"))
    await harness.plan_and_apply()
    harness.write(
        "digest", push_task("digest-w1", title="digest"), push_task("digest-w2", title="digest")
    )
    plan = await harness.plan()
    assert [(c.address, c.action) for c in plan.changes] == [
        (f"{ANDROID}/digest-w2", Action.CREATE)
    ]
    await harness.apply(plan)
    assert len(harness.pushes_titled("digest")) == 2


async def test_more_tasks_than_live_copies_is_an_error_and_no_call(harness: Harness) -> None:
    harness.write("digest", push_task("digest-w1", title="digest"))
    await harness.plan_and_apply()
    forget_everything(harness)
    harness.write(
        "digest", push_task("digest-w1", title="digest"), push_task("digest-w2", title="digest")
    )
    plan = await harness.plan()
    assert not plan.applyable
    assert plan.changes == ()
    assert sorted(d.code for d in plan.diagnostics) == ["guard.ambiguous", "guard.ambiguous"]
    assert len(harness.ledger(PUSH_PATH)) == 1


async def test_a_tombstone_restores_the_binding_beyond_the_record_horizon(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.remove("flash")
    plan, _ = await harness.plan_and_apply()
    assert [c.action for c in plan.changes] == [Action.FORGET]
    harness.advance(40 * 86400)  # TPNS no longer shows the push: only the tombstone knows it
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    assert [(c.address, c.action) for c in plan.changes] == [(ADDRESS, Action.ADOPT)]
    await harness.apply(plan)
    assert len(harness.ledger(PUSH_PATH)) == 1
    assert harness.store.snapshot().tombstones == {}


async def test_renaming_a_forgotten_task_is_refused_not_resent(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    await harness.plan_and_apply()
    harness.remove("flash")
    await harness.plan_and_apply()  # forget: a tombstone now claims the push
    harness.write("flash", push_task("flash-renamed", title="flash"))
    plan = await harness.plan()
    assert plan.changes == ()
    assert [d.code for d in plan.diagnostics] == ["create.resends-forgotten"]
    assert "state rm --purge" in plan.diagnostics[0].message


async def test_no_history_warns_that_older_pushes_cannot_be_recognised(harness: Harness) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    assert [c.action for c in plan.changes] == [Action.CREATE]
    [warning] = plan.diagnostics
    assert warning.code == "guard.no-history"
    assert warning.severity == "warning"
    cutoff = harness.now() - timedelta(days=30)
    assert f"before {cutoff:%Y-%m-%d}" in warning.message


async def test_an_open_intent_past_the_record_horizon_is_never_judged_absent(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    crashed_intent(harness, body)
    harness.advance(32 * 86400)
    report = await harness.apply(await harness.plan())
    assert "older than TPNS's one-month record" in report.resolved_intents[0]
    assert [o.address for o in report.failed] == [ADDRESS]
    assert len(harness.store.open_intents()) == 1
    assert harness.ledger(PUSH_PATH) == []


async def test_a_lost_create_is_found_although_tpns_clock_runs_an_hour_ahead(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    body = (await harness.plan()).changes[0].api_calls[0].body
    intent = crashed_intent(harness, body)
    # The crashed run wrote its intent an hour (by its clock) before TPNS dated the task.
    harness.store.close_intent(intent.intent_id, push_id=None, outcome="test: rewritten")
    harness.store.open_intent(
        intent.model_copy(
            update={
                "intent_id": "skewed:" + ADDRESS,
                "created_at": harness.now() - timedelta(hours=1, minutes=5),
            }
        )
    )
    await harness.clients[ANDROID].push_app(body)
    report = await harness.apply(await harness.plan())
    assert not report.failed
    assert "found push" in report.resolved_intents[0]
    assert len(harness.ledger(PUSH_PATH)) == 1


class TimesOut:
    """A client whose push leaves but whose answer never comes back in time; TPNS makes the
    task only after the client gave up (the test makes it later)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.bodies: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def push_app(self, body: dict[str, Any], *, on_send: Any = None) -> PushAccepted:
        if on_send is not None:
            on_send()
        self.bodies.append(body)
        raise OutcomeUnknown(
            "push timed out",
            path=PUSH_PATH,
            access_id="1500001048",
            sent_at_unix=0.0,
            body_digest="",
            timed_out_after=15.0,
        )


async def test_a_timed_out_create_is_not_judged_absent_by_the_run_that_sent_it(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    plan = await harness.plan()
    slow = TimesOut(harness.clients[ANDROID])
    harness.clients[ANDROID] = slow  # type: ignore[assignment]
    report = await harness.apply(plan, read_back_grace={ANDROID: 0.0})
    [failed] = report.failed
    assert "may still show up" in failed.detail
    [intent] = harness.store.open_intents()
    assert intent.hold_until == harness.now() + timedelta(seconds=15)
    # TPNS finishes the held request after the client gave up.
    harness.clients[ANDROID] = slow.inner
    await slow.inner.push_app(slow.bodies[0])
    harness.advance(16)
    report = await harness.apply(await harness.plan(), read_back_grace={ANDROID: 0.0})
    assert not report.failed
    assert "found push" in report.resolved_intents[0]
    assert len(harness.pushes_titled("flash")) == 1


async def test_rate_limited_after_the_task_was_made_is_read_back_not_resent(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    harness.core.set_faults(
        [{"path": PUSH_PATH, "kind": "ret_code", "ret_code": 1008028, "when": "after", "count": 1}]
    )
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert "confirmed by reading back" in report.outcomes[0].detail
    assert len(harness.ledger(PUSH_PATH)) == 1
    assert (await harness.plan()).is_empty


async def test_rate_limited_before_the_task_was_made_is_sent_by_the_next_apply(
    harness: Harness,
) -> None:
    harness.write("flash", push_task("flash"))
    harness.core.set_faults(
        [{"path": PUSH_PATH, "kind": "ret_code", "ret_code": 1008028, "when": "before", "count": 1}]
    )
    _, report = await harness.plan_and_apply()
    [failed] = report.failed
    assert "too fast" in failed.detail
    assert harness.store.open_intents() == []
    _, report = await harness.plan_and_apply()
    assert not report.failed
    assert len(harness.pushes_titled("flash")) == 1


class CountsOpenIntents:
    """Records how many intents are open at the moment each push leaves."""

    def __init__(self, inner: Any, state: Any) -> None:
        self.inner = inner
        self.state = state
        self.open_at_send: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def push_app(self, body: dict[str, Any], *, on_send: Any = None) -> PushAccepted:
        def counted() -> None:
            if on_send is not None:
                on_send()
            snapshot: StateSnapshot = self.state.snapshot()
            self.open_at_send.append(len(snapshot.open_intents))

        result: PushAccepted = await self.inner.push_app(body, on_send=counted)
        return result


async def test_each_intent_is_committed_right_before_its_own_push(harness: Harness) -> None:
    titles = [f"deal {n}" for n in range(4)]
    harness.write("deals", *(push_task(f"deal-{n}", title=t) for n, t in enumerate(titles)))
    plan = await harness.plan()
    counting = CountsOpenIntents(harness.clients[ANDROID], harness.store)
    harness.clients[ANDROID] = counting  # type: ignore[assignment]
    report = await harness.apply(plan)
    assert not report.failed
    # While one push waits for its 1/s turn, no other push has an intent open.
    assert counting.open_at_send == [1, 1, 1, 1]
