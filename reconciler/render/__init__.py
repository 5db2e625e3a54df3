"""Rendering of plans and diagnostics: text, JSON, Markdown and GitHub annotations.

Every function here is pure: it takes values and returns a string; the CLI prints it.
"""

from __future__ import annotations

from reconciler.render.diagnostics import render_diagnostics_text
from reconciler.render.github import render_github_annotations
from reconciler.render.json_out import render_diagnostics_json, render_plan_json
from reconciler.render.markdown import render_plan_markdown
from reconciler.render.text import render_plan_text

__all__ = [
    "render_diagnostics_json",
    "render_diagnostics_text",
    "render_github_annotations",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
]
