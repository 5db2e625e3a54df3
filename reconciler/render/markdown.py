"""The plan as a pull-request comment: the verdict first, each change folded in `<details>`.

GitHub caps a comment at 65,536 characters, so the output stays under `limit`: diagnostics and
change details are added while they fit, and a note says how many were left out. Every piece
of user text is escaped, so a manifest cannot inject Markdown, HTML or @-mentions.
"""

from __future__ import annotations

import html
import itertools
import re

from reconciler.domain.plan import SYMBOLS, Change, Diagnostic, Plan
from reconciler.render import wording
from reconciler.render.preview import preview_markdown_blocks
from reconciler.render.values import (
    clean_text,
    displayed_diff,
    format_call,
    format_value,
)

_ACTION_ROWS = (*wording.MUTATING_ORDER, *wording.STATE_ONLY_ORDER)
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]()|~#!$")
# A zero-width space after "@" keeps GitHub from notifying whoever a manifest names.
_AT_WITHOUT_MENTION = "@&#8203;"
_SEPARATOR = "\n\n"
_DIAGNOSTICS_HEADING = "#### Diagnostics\n\n"
_CHANGES_HEADING = "#### Changes"


def render_plan_markdown(plan: Plan, *, limit: int = 60_000, plan_file: str = "plan.json") -> str:
    """Markdown for a PR comment, at most `limit` characters long (ending with a newline)."""
    changes = wording.visible_changes(plan)
    diagnostics = [_diagnostic_item(d) for d in wording.errors_first(plan.diagnostics)]
    # Room for both notes is kept aside up front, so adding one never breaks the limit.
    reserve = sum(
        len(_SEPARATOR) + len(_left_out_note(len(items), noun, plan_file))
        for items, noun in ((changes, "change"), (diagnostics, "diagnostic"))
    )
    page = _Page(_summary_section(plan), budget=limit - reserve)

    shown = page.add_list(_DIAGNOSTICS_HEADING, diagnostics)
    if shown < len(diagnostics):
        page.add(_left_out_note(len(diagnostics) - shown, "diagnostic", plan_file), force=True)
    # Lazily: only the changes that fit the comment are rendered, not all 10,000.
    details = (_change_details(change) for change in changes)
    if changes and page.fits(_CHANGES_HEADING):
        page.add(_CHANGES_HEADING)
    shown = sum(1 for _ in itertools.takewhile(page.add, details))
    if shown < len(changes):
        page.add(_left_out_note(len(changes) - shown, "change", plan_file), force=True)
    else:  # the preview follows the changes only when every change is shown
        for block in preview_markdown_blocks(changes, escape=escape_markdown):
            page.add(block)

    text = page.text()
    if len(text) > limit:  # only when even the summary does not fit a tiny limit
        text = text[: max(limit - 2, 0)] + "…\n"
    return text


class _Page:
    """Blocks joined by blank lines, kept within a character budget."""

    def __init__(self, first: str, *, budget: int) -> None:
        self.blocks = [first]
        self.size = len(first) + 1  # the final newline
        self.budget = budget

    def fits(self, block: str) -> bool:
        return self.size + len(_SEPARATOR) + len(block) <= self.budget

    def add(self, block: str, *, force: bool = False) -> bool:
        """Append the block if it fits (or is forced); say whether it was appended."""
        if not force and not self.fits(block):
            return False
        self.blocks.append(block)
        self.size += len(_SEPARATOR) + len(block)
        return True

    def add_list(self, heading: str, items: list[str]) -> int:
        """Append a heading and as many one-line items as fit, as one tight list."""
        size = len(heading) - 1  # the first item needs no newline before it
        shown = 0
        for item in items:
            size += 1 + len(item)
            if self.size + len(_SEPARATOR) + size > self.budget:
                break
            shown += 1
        if shown:
            self.add(heading + "\n".join(items[:shown]), force=True)
        return shown

    def text(self) -> str:
        return _SEPARATOR.join(self.blocks) + "\n"


def _left_out_note(count: int, noun: str, plan_file: str) -> str:
    command = code_span(f"pushctl show {plan_file}")
    return f"… {wording.plural(count, 'more ' + noun)} not shown; run {command} for the full plan."


def _summary_section(plan: Plan) -> str:
    lines = [f"### {wording.summary_line(plan)}"]
    if not plan.is_empty:
        counts = wording.action_counts(plan)
        lines += ["", "| | action | count |", "|:-:|---|--:|"]
        lines += [
            f"| {code_span(SYMBOLS[action])} | {action.value} | {counts[action.value]} |"
            for action in _ACTION_ROWS
        ]
    lines.append("")
    blocked = wording.blocked_line(plan)
    if blocked:
        lines.append(f":no_entry: **{blocked}**  ")
    not_after = wording.not_after_line(plan)
    if not_after:
        lines.append(f"{not_after}  ")
    lines.append(wording.refresh_line(plan.api_usage))
    return "\n".join(lines)


def _diagnostic_item(diagnostic: Diagnostic) -> str:
    label = ":x: **Error**" if diagnostic.severity == "error" else ":warning: **Warning**"
    parts = [label, code_span(diagnostic.code)]
    if diagnostic.address:
        parts.append(escape_markdown(diagnostic.address))
    where = wording.location(diagnostic)
    if where:
        parts.append(f"({code_span(where)})")
    return f"- {' '.join(parts)}: {escape_markdown(diagnostic.message)}"


def _change_details(change: Change) -> str:
    symbol = html.escape(SYMBOLS[change.action])
    summary = f"<code>{symbol}</code> {escape_html(wording.headline(change))}"
    sections = [f"<details><summary>{summary}</summary>", _facts(change)]
    diff = _diff_fence(change)
    if diff:
        sections.append(diff)
    sections.append(_calls(change))
    sections.append("</details>")
    return _SEPARATOR.join(sections)


def _facts(change: Change) -> str:
    facts = [f"**Reason:** {escape_markdown(change.reason)}"]
    if change.push_id:
        facts.append(f"**Push id:** {code_span(change.push_id)}")
    if change.audience:
        facts.append(f"**Audience:** {escape_markdown(change.audience)}")
    deadline = wording.deadline_text(change)
    if deadline:
        facts.append(f"**Deadline:** {escape_markdown(deadline)}")
    if change.depends_on:
        facts.append(f"**Depends on:** {escape_markdown(', '.join(change.depends_on))}")
    facts += [f":warning: {escape_markdown(warning)}" for warning in change.warnings]
    if not change.reversible:
        facts.append("**Cannot be undone.**")
    return "\n".join(f"- {fact}" for fact in facts)


def _diff_fence(change: Change) -> str:
    """A ```diff block; a changed field becomes a -/+ pair so GitHub colours both sides."""
    lines: list[str] = []
    for entry in displayed_diff(change):
        path = _one_line(clean_text(entry.path))
        if entry.op in ("remove", "change"):
            lines.append(f"- {path}: {format_value(entry.old)}")
        if entry.op in ("add", "change"):
            lines.append(f"+ {path}: {format_value(entry.new)}")
    if not lines:
        return ""
    body = "\n".join(lines)
    fence = _fence_for(body)
    return f"{fence}diff\n{body}\n{fence}"


def _calls(change: Change) -> str:
    if not change.api_calls:
        return "**TPNS calls:** none (state only)"
    calls = [
        f"{number}. {code_span(_one_line(format_call(call)))}"
        for number, call in enumerate(change.api_calls, start=1)
    ]
    return "**TPNS calls:**\n\n" + "\n".join(calls)


def escape_markdown(text: str) -> str:
    """User text as inline Markdown that renders literally (newlines become `<br>`)."""
    return clean_text(text).translate(_MARKDOWN_ESCAPES)


def escape_html(text: str) -> str:
    """User text inside an HTML element such as `<summary>`, where Markdown is not parsed."""
    return _one_line(clean_text(text)).translate(_HTML_ESCAPES)


#: `html.escape(char, quote=True)`, and "@" kept from mentioning anyone.
_HTML_ESCAPES = str.maketrans(
    {char: html.escape(char, quote=True) for char in "&<>\"'"} | {"@": _AT_WITHOUT_MENTION}
)
#: Markdown punctuation backslashed (none of it is special in HTML), newlines as `<br>`.
_MARKDOWN_ESCAPES = str.maketrans(
    {char: "\\" + char for char in _MARKDOWN_PUNCTUATION}
    | {"\n": "<br>"}
    | {chr(code): text for code, text in _HTML_ESCAPES.items()}
)


def code_span(text: str) -> str:
    """Inline code that survives backticks in the text (CommonMark: a longer delimiter)."""
    text = _one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{padding}{text}{padding}{ticks}"


def _fence_for(body: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")
