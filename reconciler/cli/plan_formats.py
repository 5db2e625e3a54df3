"""Plan output formats for CI systems (`plan` and `show` with `--format github|gitlab-report`)."""

from __future__ import annotations

from reconciler.domain.plan import Plan, summarize
from reconciler.render.github import render_plan_annotations
from reconciler.render.gitlab import render_gitlab_report

CI_FORMATS = ("github", "gitlab-report")


def render_ci_format(plan: Plan, fmt: str) -> str:
    if not plan.summary:
        plan = plan.model_copy(update={"summary": summarize(plan.changes)})
    if fmt == "github":
        return render_plan_annotations(plan)
    return render_gitlab_report(plan)
