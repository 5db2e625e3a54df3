"""JSON for scripts: the saved plan file and `validate --format json`.

The plan's JSON form is owned by `Plan.to_json` (one serialiser, so `plan --out`, `show` and
`--format json` never disagree); this module only makes sure the summary is filled in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.domain.plan import Diagnostic, Plan, summarize


def render_plan_json(plan: Plan) -> str:
    """The plan file (format_version 1.0): field names and order of docs/design.md.

    `summary` is required by the contract; a plan built without one gets it from its changes.
    """
    if not plan.summary:
        plan = plan.model_copy(update={"summary": summarize(plan.changes)})
    return plan.to_json()


def render_diagnostics_json(diagnostics: Sequence[Diagnostic]) -> str:
    """`{"valid", "error_count", "warning_count", "diagnostics": [...]}`, in the given order."""
    errors = sum(1 for diagnostic in diagnostics if diagnostic.severity == "error")
    document = {
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": len(diagnostics) - errors,
        "diagnostics": [diagnostic.model_dump(mode="json") for diagnostic in diagnostics],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
