"""The sentences every plan format shares: headlines, the summary line, refresh cost, blockers.

Scripts and people grep these, so each sentence is built in exactly one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.domain.plan import Action, ApiUsage, Change, Diagnostic, Plan, summarize
from reconciler.render.audience import reaches_all_devices
from reconciler.render.values import clean_text, format_datetime

#: The six actions that call TPNS, in the order of docs/design.md's summary sentence.
MUTATING_ORDER = (
    Action.CREATE,
    Action.OVERRIDE,
    Action.REPLACE,
    Action.STOP,
    Action.RECALL,
    Action.CANCEL,
)
#: Actions that only touch the state store.
STATE_ONLY_ORDER = (Action.ADOPT, Action.FORGET)

NO_CHANGES = "No changes. Live push tasks match the manifests."

_VERBS: dict[Action, str] = {
    Action.CREATE: "will be created",
    Action.OVERRIDE: "will be overridden",
    Action.REPLACE: "will be replaced",
    Action.STOP: "will be stopped",
    Action.RECALL: "will be recalled",
    Action.CANCEL: "will be cancelled",
    Action.ADOPT: "will be adopted into state; the live task is not touched",
    Action.FORGET: "will be forgotten by pushctl; the live task is not touched",
    Action.NO_OP: "is up to date",
}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def visible_changes(plan: Plan) -> list[Change]:
    """Changes worth showing: no-ops only confirm that a task is already right."""
    return [change for change in plan.changes if change.action is not Action.NO_OP]


def headline(change: Change) -> str:
    """`shop-android/bf-teaser will be overridden by shop-android/bf-teaser-v2`."""
    text = f"{clean_text(change.address)} {_VERBS[change.action]}"
    successor = change.new_address
    moves_on = change.action in (Action.OVERRIDE, Action.REPLACE)
    if moves_on and successor is not None and successor != change.address:
        text += f" by {clean_text(successor)}"
    return text


def deadline_text(change: Change) -> str | None:
    if change.deadline is None:
        return None
    return f"must apply before {format_datetime(change.deadline)}"


def action_counts(plan: Plan) -> dict[str, int]:
    """A count per action name, from the changes themselves so it always matches the blocks."""
    return summarize(plan.changes)


def summary_line(plan: Plan) -> str:
    """The one summary line of docs/design.md, state-only counts appended when present."""
    counts = action_counts(plan)
    if not any(counts[action.value] for action in (*MUTATING_ORDER, *STATE_ONLY_ORDER)):
        if not plan.applyable:
            # Nothing planned because the errors above stop it, not because all is well.
            return "No changes planned: the errors above must be fixed first."
        return NO_CHANGES
    line = "Plan: " + _count_list(counts, MUTATING_ORDER) + "."
    if any(counts[action.value] for action in STATE_ONLY_ORDER):
        line += " State only: " + _count_list(counts, STATE_ONLY_ORDER) + "."
    broadcasts = [
        change.new_address or change.address
        for change in plan.changes
        if reaches_all_devices(change)
    ]
    if broadcasts:
        line += f" Reaches all devices: {', '.join(broadcasts)}."
    return line


def _count_list(counts: dict[str, int], actions: Iterable[Action]) -> str:
    return ", ".join(f"{counts[action.value]} to {action.value}" for action in actions)


def refresh_line(usage: ApiUsage) -> str:
    """`Refresh: 3 TPNS calls (get_push_record 3); lower bound 3.`"""
    per_endpoint = ", ".join(
        f"{path.rstrip('/').rsplit('/', 1)[-1]} {count}"
        for path, count in sorted(usage.calls.items())
    )
    spent = plural(usage.total, "TPNS call")
    detail = f" ({per_endpoint})" if per_endpoint else ""
    return f"Refresh: {spent}{detail}; lower bound {usage.lower_bound}."


def not_after_line(plan: Plan) -> str | None:
    if plan.not_after is None or plan.is_empty:
        return None
    return f"Apply before {format_datetime(plan.not_after)}; after that the plan expires."


def blocked_line(plan: Plan) -> str | None:
    """Why apply will refuse this plan, and what to do; None when it can be applied."""
    if plan.applyable:
        return None
    errors = sum(1 for diagnostic in plan.diagnostics if diagnostic.severity == "error")
    if errors == 0:
        return "This plan cannot be applied."
    return f"This plan cannot be applied: fix the {plural(errors, 'error')} and plan again."


def errors_first(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Errors before warnings; within each, the order the checks reported them."""
    return sorted(diagnostics, key=lambda diagnostic: diagnostic.severity != "error")


def location(diagnostic: Diagnostic) -> str:
    """`file:line:col`, shortened when the line or column is unknown (0); "" without a file."""
    if not diagnostic.file:
        return ""
    parts = [diagnostic.file]
    if diagnostic.line > 0:
        parts.append(str(diagnostic.line))
        if diagnostic.column > 0:
            parts.append(str(diagnostic.column))
    return clean_text(":".join(parts))
