"""GitHub Actions workflow commands, so diagnostics show up as annotations on the PR diff.

Escaping follows the runner's rules (actions/toolkit `command.ts`): the message escapes `%`, CR
and LF; property values additionally escape `:` and `,`, which would otherwise end the value.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.domain.plan import Diagnostic, Plan


def render_github_annotations(diagnostics: Sequence[Diagnostic]) -> str:
    """`::error file=F,line=L,col=C,title=CODE::address: message`, one line each."""
    return "".join(annotation(diagnostic) + "\n" for diagnostic in diagnostics)


def render_plan_annotations(plan: Plan) -> str:
    """The plan's diagnostics as annotations, then one `::notice` with the summary line.

    `plan --format github` prints this: the runner turns each line into an annotation, so the
    run's page shows the problems and what the plan would do without opening the log.
    """
    counts = ", ".join(
        f"{n} {action}" for action, n in plan.summary.items() if n and action != "no-op"
    )
    verdict = f"pushctl plan: {counts or 'no changes'}"
    if not plan.applyable:
        verdict += " (not applyable: see the errors)"
    return (
        render_github_annotations(plan.diagnostics)
        + f"::notice title=pushctl plan::{escape_data(verdict)}\n"
    )


def annotation(diagnostic: Diagnostic) -> str:
    properties: list[tuple[str, str]] = []
    if diagnostic.file:
        properties.append(("file", diagnostic.file))
        if diagnostic.line > 0:
            properties.append(("line", str(diagnostic.line)))
            if diagnostic.column > 0:
                properties.append(("col", str(diagnostic.column)))
    properties.append(("title", diagnostic.code))
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    text = (
        f"{diagnostic.address}: {diagnostic.message}" if diagnostic.address else diagnostic.message
    )
    return f"::{diagnostic.severity} {joined}::{escape_data(text)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
