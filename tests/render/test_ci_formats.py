"""`--format gitlab-report` and `--format github` of a plan."""

from __future__ import annotations

import json
from collections import Counter

from reconciler.cli.plan_formats import render_ci_format
from reconciler.domain.plan import Plan


def test_gitlab_report_folds_actions_into_create_update_delete(full_plan: Plan) -> None:
    actions = Counter(change.action.value for change in full_plan.changes)
    report = json.loads(render_ci_format(full_plan, "gitlab-report"))
    assert report == {
        "create": actions["create"],
        "update": actions["override"] + actions["replace"],
        "delete": actions["stop"] + actions["recall"] + actions["cancel"],
    }
    assert report["update"] > 0
    assert report["delete"] > 0


def test_gitlab_report_of_an_empty_plan_is_zero(empty_plan: Plan) -> None:
    assert render_ci_format(empty_plan, "gitlab-report") == (
        '{"create": 0, "update": 0, "delete": 0}\n'
    )


def test_github_format_annotates_and_sums_up(full_plan: Plan) -> None:
    lines = render_ci_format(full_plan, "github").splitlines()
    assert len(lines) == len(full_plan.diagnostics) + 1
    assert all(line.startswith(("::error ", "::warning ")) for line in lines[:-1])
    assert lines[-1].startswith("::notice title=pushctl plan::pushctl plan: ")
    assert "1 create" in lines[-1]


def test_github_format_of_an_empty_plan_says_no_changes(empty_plan: Plan) -> None:
    assert render_ci_format(empty_plan, "github").endswith(
        "::notice title=pushctl plan::pushctl plan: no changes\n"
    )
