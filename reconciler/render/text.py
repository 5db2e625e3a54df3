"""The text plan `pushctl plan` and `pushctl show` print: one block per change, then the rest.

Laid out like Terraform's plan: a symbol and a headline per change, its details indented below,
then diagnostics, the refresh cost and exactly one summary line (docs/design.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.domain.plan import SYMBOLS, Action, Change, Diagnostic, Plan
from reconciler.render import wording
from reconciler.render.ansi import Tint, paint
from reconciler.render.preview import preview_text_sections
from reconciler.render.values import (
    clean_text,
    displayed_diff_texts,
    format_call,
)

_DETAIL = " " * 6
_LABEL_WIDTH = 12

_ACTION_TINTS: dict[Action, Tint] = {
    Action.CREATE: Tint.GREEN,
    Action.OVERRIDE: Tint.YELLOW,
    Action.REPLACE: Tint.MAGENTA,
    Action.STOP: Tint.RED,
    Action.RECALL: Tint.RED,
    Action.CANCEL: Tint.RED,
    Action.ADOPT: Tint.CYAN,
    Action.FORGET: Tint.CYAN,
    Action.NO_OP: Tint.DIM,
}
_DIFF_TINTS = {"+": Tint.GREEN, "-": Tint.RED, "~": Tint.YELLOW}


def render_plan_text(plan: Plan, *, color: bool = False) -> str:
    """The whole plan as terminal text, ending with a newline."""
    sections: list[str] = []
    changes = wording.visible_changes(plan)
    if changes:
        blocks = [render_change_text(change, color=color) for change in changes]
        sections.append("pushctl will perform the following actions:\n\n" + "\n\n".join(blocks))
        sections += preview_text_sections(changes)
    if plan.diagnostics:
        sections.append(render_plan_diagnostics(plan.diagnostics, color=color))
    sections.append(_closing_lines(plan, color=color))
    return "\n\n".join(sections) + "\n"


def render_change_text(change: Change, *, color: bool = False) -> str:
    """One change: the symbol and headline, then reason, target, warnings, diff and calls."""
    symbol = paint(f"{SYMBOLS[change.action]:>3}", _ACTION_TINTS[change.action], color=color)
    lines = [f"{symbol} {paint(wording.headline(change), Tint.BOLD, color=color)}"]
    lines += _labelled("reason", change.reason)
    if change.push_id:
        lines += _labelled("push id", change.push_id)
    if change.audience:
        lines += _labelled("audience", change.audience)
    deadline = wording.deadline_text(change)
    if deadline:
        lines += _labelled("deadline", deadline)
    if change.depends_on:
        lines += _labelled("depends on", ", ".join(change.depends_on))
    lines += [_indented(f"! {warning}", Tint.YELLOW, color=color) for warning in change.warnings]
    lines += _diff_lines(change, color=color)
    lines += _call_lines(change)
    if not change.reversible:
        lines.append(_DETAIL + paint("cannot be undone", Tint.BOLD, color=color))
    return "\n".join(lines)


def _labelled(label: str, value: str) -> list[str]:
    """`reason:     text`, continuation lines of a multi-line value aligned under the first."""
    if value.isprintable():  # one line with nothing to escape: most values
        return [f"{_DETAIL}{label + ':':<{_LABEL_WIDTH}}{value}"]
    first, *rest = clean_text(value).split("\n")
    head = f"{_DETAIL}{label + ':':<{_LABEL_WIDTH}}{first}"
    if not rest:
        return [head]
    return [head, *(f"{_DETAIL}{'':<{_LABEL_WIDTH}}{line}" for line in rest)]


def _indented(text: str, *tints: Tint, color: bool) -> str:
    lines = clean_text(text).split("\n")
    return "\n".join(
        _DETAIL + ("" if i == 0 else "  ") + paint(line, *tints, color=color)
        for i, line in enumerate(lines)
    )


def _diff_lines(change: Change, *, color: bool) -> list[str]:
    lines = []
    for symbol, text in displayed_diff_texts(change):
        shown = paint(symbol, _DIFF_TINTS[symbol], color=color) if color else symbol
        lines.append(f"{_DETAIL}{shown} {text}")
    return lines


def _call_lines(change: Change) -> list[str]:
    if not change.api_calls:
        return [f"{_DETAIL}{'calls:':<{_LABEL_WIDTH}}none (state only)"]
    calls = [f"{_DETAIL}  {format_call(call)}" for call in change.api_calls]
    return [f"{_DETAIL}calls:", *calls]


def render_plan_diagnostics(diagnostics: Sequence[Diagnostic], *, color: bool = False) -> str:
    """`Error: [code] address (file:line:col): message`, errors first."""
    return "\n".join(
        _diagnostic_line(diagnostic, color=color)
        for diagnostic in wording.errors_first(diagnostics)
    )


def _diagnostic_line(diagnostic: Diagnostic, *, color: bool) -> str:
    if diagnostic.severity == "error":
        label = paint("Error:", Tint.RED, Tint.BOLD, color=color)
    else:
        label = paint("Warning:", Tint.YELLOW, Tint.BOLD, color=color)
    where = wording.location(diagnostic)
    subject = " ".join(
        part
        for part in (f"[{clean_text(diagnostic.code)}]", clean_text(diagnostic.address))
        if part
    )
    if where:
        subject += f" ({where})"
    message = clean_text(diagnostic.message).replace("\n", "\n  ")
    return f"{label} {subject}: {message}"


def _closing_lines(plan: Plan, *, color: bool) -> str:
    lines = [
        wording.refresh_line(plan.api_usage),
        paint(wording.summary_line(plan), Tint.BOLD, color=color),
    ]
    not_after = wording.not_after_line(plan)
    if not_after:
        lines.append(not_after)
    blocked = wording.blocked_line(plan)
    if blocked:
        lines.append(paint(blocked, Tint.RED, Tint.BOLD, color=color))
    return "\n".join(lines)
