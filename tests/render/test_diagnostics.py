"""`pushctl validate` text: compiler-style lines, then one verdict line."""

from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from reconciler.domain.plan import Diagnostic
from reconciler.render import render_diagnostics_text


def test_snapshot(diagnostics: tuple[Diagnostic, ...], text_snapshot: SnapshotAssertion) -> None:
    assert render_diagnostics_text(diagnostics, task_count=9) == text_snapshot


def test_lines_errors_first(diagnostics: tuple[Diagnostic, ...]) -> None:
    lines = render_diagnostics_text(diagnostics, task_count=9).splitlines()
    assert lines[0].startswith(
        "manifests/ios/launch.yaml:7:10: error[cancel.started] shop-ios/launch: task launch"
    )
    assert lines[1].startswith(
        "manifests/android/bf-teaser.yaml:9:3: warning[override.partial-collapse] "
        "shop-android/bf-teaser: OPPO"
    )
    assert lines[2] == "1 error, 1 warning"
    assert len(lines) == 3


def test_counts_are_pluralised() -> None:
    errors = [Diagnostic(severity="error", code="e", address="a/b", message="m")] * 2
    assert render_diagnostics_text(errors, task_count=3).splitlines()[-1] == "2 errors, 0 warnings"


def test_all_valid() -> None:
    assert render_diagnostics_text([], task_count=12) == "All manifests are valid (12 tasks).\n"
    assert render_diagnostics_text([], task_count=1) == "All manifests are valid (1 task).\n"


def test_valid_with_warnings(diagnostics: tuple[Diagnostic, ...]) -> None:
    warnings = [d for d in diagnostics if d.severity == "warning"]
    last = render_diagnostics_text(warnings, task_count=4).splitlines()[-1]
    assert last == "All manifests are valid (4 tasks), with 1 warning."


def test_location_and_address_may_be_missing() -> None:
    diagnostic = Diagnostic(severity="error", code="config.apps", address="", message="no apps")
    assert render_diagnostics_text([diagnostic], task_count=0).splitlines()[0] == (
        "error[config.apps]: no apps"
    )
    located = diagnostic.model_copy(update={"file": "pushctl.yaml", "line": 2})
    assert render_diagnostics_text([located], task_count=0).splitlines()[0] == (
        "pushctl.yaml:2: error[config.apps]: no apps"
    )


def test_color(diagnostics: tuple[Diagnostic, ...]) -> None:
    assert "\x1b" not in render_diagnostics_text(diagnostics, task_count=9)
    colored = render_diagnostics_text(diagnostics, task_count=9, color=True)
    assert "\x1b[31;1merror[cancel.started]\x1b[0m" in colored
