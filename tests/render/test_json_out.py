"""JSON for scripts: the plan file round-trips and keeps docs/design.md's field names."""

from __future__ import annotations

import json

from syrupy.assertion import SnapshotAssertion

from reconciler.domain.plan import Diagnostic, Plan
from reconciler.render import render_diagnostics_json, render_plan_json

PLAN_FIELDS = [
    "format_version",
    "tool_version",
    "created_at",
    "not_after",
    "applyable",
    "summary",
    "changes",
    "diagnostics",
    "api_usage",
    "input_digest",
    "state_lineage",
    "state_serial",
    "live_fingerprints",
]
CHANGE_FIELDS = {
    "address",
    "action",
    "push_id",
    "api_calls",
    "reason",
    "before",
    "after",
    "diff",
    "reversible",
    "deadline",
    "warnings",
}
DIAGNOSTIC_FIELDS = ["severity", "code", "address", "file", "line", "column", "message"]


def test_full_plan_snapshot(full_plan: Plan, json_snapshot: SnapshotAssertion) -> None:
    assert render_plan_json(full_plan) == json_snapshot


def test_empty_plan_snapshot(empty_plan: Plan, json_snapshot: SnapshotAssertion) -> None:
    assert render_plan_json(empty_plan) == json_snapshot


def test_plan_file_round_trips(full_plan: Plan) -> None:
    assert Plan.from_json(render_plan_json(full_plan)) == full_plan


def test_plan_fields_follow_the_contract(full_plan: Plan) -> None:
    document = json.loads(render_plan_json(full_plan))
    assert list(document) == PLAN_FIELDS
    assert document["format_version"] == "1.1"
    assert document["applyable"] is False
    assert document["not_after"] == "2026-11-30T09:00:00+08:00"
    assert set(document["changes"][0]) >= CHANGE_FIELDS
    assert list(document["changes"][0]["api_calls"][0]) == ["path", "body"]
    assert list(document["diagnostics"][0]) == DIAGNOSTIC_FIELDS
    assert document["api_usage"] == {
        "calls": {"/v3/statistics/get_push_record": 3},
        "lower_bound": 3,
    }


def test_output_is_stable(full_plan: Plan) -> None:
    assert render_plan_json(full_plan) == render_plan_json(
        Plan.from_json(render_plan_json(full_plan))
    )


def test_missing_summary_is_filled_from_the_changes(full_plan: Plan) -> None:
    without_summary = full_plan.model_copy(update={"summary": {}})
    summary = json.loads(render_plan_json(without_summary))["summary"]
    assert summary == {
        "create": 1,
        "override": 1,
        "replace": 1,
        "stop": 1,
        "recall": 1,
        "cancel": 1,
        "adopt": 1,
        "forget": 1,
        "no-op": 1,
    }


def test_diagnostics_snapshot(
    diagnostics: tuple[Diagnostic, ...], json_snapshot: SnapshotAssertion
) -> None:
    assert render_diagnostics_json(diagnostics) == json_snapshot


def test_diagnostics_document(diagnostics: tuple[Diagnostic, ...]) -> None:
    document = json.loads(render_diagnostics_json(diagnostics))
    assert list(document) == ["valid", "error_count", "warning_count", "diagnostics"]
    assert document["valid"] is False
    assert document["error_count"] == 1
    assert document["warning_count"] == 1
    assert [d["code"] for d in document["diagnostics"]] == [d.code for d in diagnostics]
    assert list(document["diagnostics"][0]) == DIAGNOSTIC_FIELDS


def test_warnings_alone_are_valid(diagnostics: tuple[Diagnostic, ...]) -> None:
    warnings = [d for d in diagnostics if d.severity == "warning"]
    document = json.loads(render_diagnostics_json(warnings))
    assert document["valid"] is True
    assert document["warning_count"] == 1


def test_no_diagnostics() -> None:
    assert json.loads(render_diagnostics_json([])) == {
        "valid": True,
        "error_count": 0,
        "warning_count": 0,
        "diagnostics": [],
    }
