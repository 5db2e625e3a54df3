"""What `pushctl validate` prints: one compiler-style line per diagnostic, then a verdict.

`file:line:col: error[code] address: message` is the shape editors and CI log parsers already
recognise, so a person can jump straight to the line.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.domain.plan import Diagnostic
from reconciler.render import wording
from reconciler.render.ansi import Tint, paint
from reconciler.render.values import clean_text


def render_diagnostics_text(
    diagnostics: Sequence[Diagnostic], *, task_count: int, color: bool = False
) -> str:
    """Every diagnostic (errors first), then `N errors, M warnings` or the all-valid line.

    `task_count` is the number of PushTask documents validated, named in the all-valid line.
    """
    lines = [diagnostic_line(d, color=color) for d in wording.errors_first(diagnostics)]
    lines.append(verdict_line(diagnostics, task_count=task_count, color=color))
    return "\n".join(lines) + "\n"


def diagnostic_line(diagnostic: Diagnostic, *, color: bool = False) -> str:
    """`manifests/a.yaml:3:5: error[manifest.unknown-key] shop-android/a: message`."""
    tint = Tint.RED if diagnostic.severity == "error" else Tint.YELLOW
    kind = paint(
        f"{diagnostic.severity}[{clean_text(diagnostic.code)}]", tint, Tint.BOLD, color=color
    )
    where = wording.location(diagnostic)
    prefix = f"{paint(where, Tint.BOLD, color=color)}: " if where else ""
    address = f" {clean_text(diagnostic.address)}" if diagnostic.address else ""
    message = clean_text(diagnostic.message).replace("\n", "\n    ")
    return f"{prefix}{kind}{address}: {message}"


def verdict_line(diagnostics: Sequence[Diagnostic], *, task_count: int, color: bool = False) -> str:
    errors = sum(1 for diagnostic in diagnostics if diagnostic.severity == "error")
    warnings = len(diagnostics) - errors
    if errors:
        counts = f"{wording.plural(errors, 'error')}, {wording.plural(warnings, 'warning')}"
        return paint(counts, Tint.RED, Tint.BOLD, color=color)
    valid = f"All manifests are valid ({wording.plural(task_count, 'task')})"
    if warnings:
        valid += f", with {wording.plural(warnings, 'warning')}"
    return paint(valid + ".", Tint.GREEN, Tint.BOLD, color=color)
