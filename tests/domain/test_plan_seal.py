"""The seal of a saved plan: every edit of what apply acts on or checks changes the digest."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.domain.plan import (
    Action,
    ApiCall,
    Change,
    Diagnostic,
    Plan,
    PlanSource,
    summarize,
)
from reconciler.domain.plan_seal import (
    check_seal,
    input_drift,
    inputs_digest,
    key_id,
    plan_digest,
    seal_plan,
)

CST = timezone(timedelta(hours=8))
KEY = b"plan-key-0123456789abcdef"
OTHER = b"plan-key-fedcba9876543210"


def sample_plan() -> Plan:
    changes = (
        Change(
            address="shop-android/promo",
            app="shop-android",
            action=Action.CREATE,
            new_address="shop-android/promo",
            api_calls=(
                ApiCall(
                    path="/v3/push/app",
                    body={"audience_type": "all", "message": {"title": "Sale", "content": "50%"}},
                ),
            ),
            reason="not in state",
        ),
        Change(
            address="shop-android/old",
            app="shop-android",
            action=Action.STOP,
            push_id="3895624686",
            api_calls=(ApiCall(path="/v3/push/stop_push_msg", body={"pushId": "3895624686"}),),
            reason="declared stopped",
        ),
    )
    return Plan(
        tool_version="0.1.0",
        created_at=datetime(2026, 11, 22, 10, 30, 0, 123456, tzinfo=CST),
        not_after=datetime(2026, 11, 30, 9, 0, tzinfo=CST),
        summary=summarize(changes),
        changes=changes,
        diagnostics=(
            Diagnostic(
                severity="warning",
                code="send-time.too-far",
                address="shop-android/promo",
                message="far",
            ),
        ),
        input_digest="abc",
        state_lineage="lineage-1",
        state_serial=3,
        state_serials={"shop-android": 3},
        live_fingerprints={"3895624686": "fp-1"},
        source=PlanSource(commit="c0ffee", inputs_digest="sha256:x", inputs={"a.yaml": "sha256:1"}),
    )


Edit = Callable[[dict[str, Any]], None]


def set_title(doc: dict[str, Any]) -> None:
    doc["changes"][0]["api_calls"][0]["body"]["message"]["title"] = "Hacked"


def set_push_id(doc: dict[str, Any]) -> None:
    doc["changes"][1]["push_id"] = "1"
    doc["changes"][1]["api_calls"][0]["body"]["pushId"] = "1"


def add_call(doc: dict[str, Any]) -> None:
    doc["changes"][1]["api_calls"].append(copy.deepcopy(doc["changes"][0]["api_calls"][0]))


def remove_diagnostic(doc: dict[str, Any]) -> None:
    doc["diagnostics"] = []


def move_not_after(doc: dict[str, Any]) -> None:
    doc["not_after"] = "2030-01-01T00:00:00+08:00"


def set_serials(doc: dict[str, Any]) -> None:
    doc["state_serials"] = {"shop-android": 4}


EDITS: dict[str, Edit] = {
    "body": set_title,
    "push id": set_push_id,
    "added call": add_call,
    "removed diagnostic": remove_diagnostic,
    "not_after": move_not_after,
    "serials": set_serials,
    "global serial": lambda doc: doc.update(state_serial=9),
    "fingerprint": lambda doc: doc["live_fingerprints"].update({"3895624686": "fp-2"}),
    "lineage": lambda doc: doc.update(state_lineage="other"),
    "tool version": lambda doc: doc.update(tool_version="0.2.0"),
    "address": lambda doc: doc["changes"][0].update(address="shop-android/other"),
    "removed change": lambda doc: doc["changes"].pop(),
    "applyable": lambda doc: doc.update(applyable=False),
    "source commit": lambda doc: doc["source"].update(commit="deadbeef"),
    "source inputs": lambda doc: doc["source"]["inputs"].update({"b.yaml": "sha256:2"}),
}


def edited(plan: Plan, edit: Edit) -> Plan:
    document = json.loads(plan.to_json())
    edit(document)
    return Plan.from_json(json.dumps(document))


@pytest.mark.parametrize("name", sorted(EDITS))
def test_every_edit_breaks_the_seal(name: str) -> None:
    sealed = seal_plan(sample_plan(), key=None)

    verdict = check_seal(edited(sealed, EDITS[name]), key=None)

    assert (verdict.sealed, verdict.intact) == (True, False)
    assert verdict.refusal(key_set=False) == (
        "the plan file was changed after it was written: its digest does not match"
    )


def test_the_seal_survives_the_file_round_trip_and_reformatting() -> None:
    sealed = seal_plan(sample_plan(), key=KEY)
    compact = json.dumps(json.loads(sealed.to_json()), indent=None, sort_keys=True)

    for text in (sealed.to_json(), sealed.to_json(indent=None), compact):
        verdict = check_seal(Plan.from_json(text), key=KEY)
        assert (verdict.intact, verdict.signature_valid) == (True, True)
        assert verdict.refusal(key_set=True) is None


def test_the_digest_leaves_out_only_the_seal() -> None:
    plan = sample_plan()
    sealed = seal_plan(plan, key=KEY)

    assert plan_digest(sealed) == plan_digest(plan)
    assert sealed.seal is not None
    assert sealed.seal.digest == plan_digest(plan)
    assert sealed.seal.digest.startswith("sha256:")
    assert len(sealed.seal.digest) == 71


def test_a_plan_without_seal_is_refused() -> None:
    verdict = check_seal(sample_plan(), key=None)

    assert verdict.sealed is False
    assert "has no seal" in str(verdict.refusal(key_set=False))


def test_a_signed_plan_with_the_wrong_key_is_refused_and_says_so() -> None:
    verdict = check_seal(seal_plan(sample_plan(), key=KEY), key=OTHER)

    assert (verdict.intact, verdict.signed, verdict.signature_valid, verdict.other_key) == (
        True,
        True,
        False,
        True,
    )
    assert verdict.refusal(key_set=True) == (
        "the plan file was signed with another key than PUSHCTL_PLAN_KEY"
    )


def test_an_unsigned_plan_is_refused_when_a_key_is_set() -> None:
    verdict = check_seal(seal_plan(sample_plan(), key=None), key=KEY)

    assert verdict.refusal(key_set=True) == (
        "the plan file is not signed, and PUSHCTL_PLAN_KEY is set: only signed plans run"
    )
    assert verdict.refusal(key_set=False) is None


def test_a_resealed_edit_without_the_key_fails_the_signature() -> None:
    """Whoever edits the plan can recompute the digest, but not the signature."""
    signed = seal_plan(sample_plan(), key=KEY)
    forged = edited(signed, set_title)
    assert forged.seal is not None
    # The old signature kept, the digest recomputed over the edited plan.
    forged = forged.model_copy(
        update={"seal": forged.seal.model_copy(update={"digest": plan_digest(forged)})}
    )

    verdict = check_seal(forged, key=KEY)

    assert (verdict.intact, verdict.signature_valid, verdict.other_key) == (True, False, False)
    assert verdict.refusal(key_set=True) == (
        "the plan file's signature does not match: it was changed after it was signed"
    )


def test_the_key_id_names_the_key_without_revealing_it() -> None:
    assert key_id(KEY) != key_id(OTHER)
    assert len(key_id(KEY)) == 16
    assert KEY.hex()[:16] != key_id(KEY)


def test_input_drift_names_changed_new_and_gone_files() -> None:
    planned = {"pushctl.yaml": "sha256:c", "manifests/a.yaml": "sha256:1", "manifests/b.yaml": "x"}
    current = {"pushctl.yaml": "sha256:c", "manifests/a.yaml": "sha256:2", "manifests/c.yaml": "y"}

    drift = input_drift(planned, current)

    assert drift.describe() == (
        "changed: manifests/a.yaml; new: manifests/c.yaml; gone: manifests/b.yaml"
    )
    assert not input_drift(planned, dict(planned))


def test_inputs_digest_ignores_order() -> None:
    assert inputs_digest({"a": "1", "b": "2"}) == inputs_digest({"b": "2", "a": "1"})
    assert inputs_digest({"a": "1"}) != inputs_digest({"a": "2"})
