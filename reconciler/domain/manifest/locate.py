"""Point a task's diagnostics at the field they are about, not at the start of its document.

Cross-task and capability checks know the task, not the line: they are located at the
document. When there are diagnostics (rarely, and few), the files they name are parsed again
with positions and each one moves to its field: `app.unknown` to `metadata.app`, a capability
to `spec.state`, a platform-only field to that field. The fast path never pays for this.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from reconciler.domain.manifest.loader import STDIN_NAME
from reconciler.domain.manifest.safe_yaml import Locator, YamlProblems, read_source
from reconciler.domain.plan import Diagnostic

FieldPath = tuple[str, ...]

_STATE: FieldPath = ("spec", "state")
_OVERRIDDEN_BY: FieldPath = ("spec", "overriddenBy")

#: Diagnostic code -> the field of the task's document it is about.
FIELD_OF_CODE: dict[str, FieldPath] = {
    "app.unknown": ("metadata", "app"),
    "task.duplicate": ("metadata", "name"),
    "override.unknown-target": _OVERRIDDEN_BY,
    "override.cycle": _OVERRIDDEN_BY,
    "override.target-inactive": _OVERRIDDEN_BY,
    "override.force-collapse-unused": ("spec", "forceCollapse"),
    "state.cancel-unscheduled": _STATE,
    "capability.stop": _STATE,
    "capability.recall": _STATE,
    "capability.override": _STATE,
    "capability.cancel": _STATE,
    "capability.schedule": ("spec", "push", "send_time"),
    "platform.environment": ("spec", "push"),
}
_PUSH_FIELD = re.compile(r"\bpush\.([A-Za-z_][\w.]*)")


def field_path(diagnostic: Diagnostic) -> FieldPath | None:
    """The field a diagnostic is about; a platform-only field is named in its message."""
    if diagnostic.code.startswith("platform.") and diagnostic.code.endswith("-field"):
        match = _PUSH_FIELD.search(diagnostic.message)
        if match:
            return ("spec", "push", *match.group(1).rstrip(".").split("."))
    return FIELD_OF_CODE.get(diagnostic.code)


def locate_fields(
    diagnostics: Sequence[Diagnostic], *, read: Callable[[str], str] | None = None
) -> list[Diagnostic]:
    """The diagnostics, each moved from its document's start to its field where one is known.

    `read` returns a file's text (default: read it from disk); a file that cannot be read
    again leaves its diagnostics where they were.
    """
    reader = read or _read_file
    locators: dict[str, Locator | None] = {}
    located: list[Diagnostic] = []
    for diagnostic in diagnostics:
        path = field_path(diagnostic)
        if path is None or not diagnostic.file or diagnostic.file == STDIN_NAME:
            located.append(diagnostic)
            continue
        if diagnostic.file not in locators:
            locators[diagnostic.file] = _locator(diagnostic.file, reader)
        locator = locators[diagnostic.file]
        root = (diagnostic.line, diagnostic.column)
        index = locator.document_at(*root) if locator is not None else None
        if locator is None or index is None:
            located.append(diagnostic)
            continue
        line, column = locator.position(index, path, root=root)
        located.append(diagnostic.model_copy(update={"line": line, "column": column}))
    return located


def _read_file(name: str) -> str:
    return read_source(Path(name))


def _locator(name: str, read: Callable[[str], str]) -> Locator | None:
    try:
        return Locator(read(name))
    except (OSError, YamlProblems, ValueError):
        return None
