"""Policy findings as diagnostics at the file:line:column of the field each points at.

Positions need the round-trip YAML parse the fast loader skips, so a file is parsed again only
when one of its tasks has a finding.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig
from reconciler.domain.manifest.safe_yaml import Locator
from reconciler.domain.plan import Diagnostic
from reconciler.domain.policy.rules import Finding, policy_findings

#: Reads a manifest file's text again; None when it cannot be (stdin, a file gone since).
SourceReader = Callable[[str], str | None]


def check_policy(
    tasks: list[DeclaredTask], config: PushctlConfig, *, read_source: SourceReader
) -> list[Diagnostic]:
    """The policy's diagnostics, each at its field (or at its task when the file is unreadable)."""
    locators: dict[str, Locator | None] = {}
    diagnostics: list[Diagnostic] = []
    for finding in policy_findings(tasks, config):
        name = finding.declared.file
        if name not in locators:
            text = read_source(name)
            locators[name] = Locator(text) if text is not None else None
        line, column = _position(finding, locators[name])
        diagnostics.append(
            Diagnostic(
                severity="error" if finding.severity == "error" else "warning",
                code=finding.code,
                address=finding.declared.address,
                file=name,
                line=line,
                column=column,
                message=finding.message,
            )
        )
    return diagnostics


def _position(finding: Finding, locator: Locator | None) -> tuple[int, int]:
    declared = finding.declared
    root = (declared.line, declared.column)
    if locator is None:
        return root
    index = _document_index(locator, line=declared.line)
    return root if index is None else locator.position(index, finding.path, root=root)


def _document_index(locator: Locator, *, line: int) -> int | None:
    """Which document of the file starts at `line` (the loader keeps lines, not indexes)."""
    index = 0
    while True:
        try:
            start, _ = locator.position(index, (), root=(0, 0))
        except IndexError:
            return None
        if start == line:
            return index
        index += 1
