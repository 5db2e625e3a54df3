"""GitHub Actions annotations: one workflow command per diagnostic, escaped per the runner."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from reconciler.domain.plan import Diagnostic
from reconciler.render import render_github_annotations
from reconciler.render.github import escape_data, escape_property


def test_snapshot(diagnostics: tuple[Diagnostic, ...], text_snapshot: SnapshotAssertion) -> None:
    assert render_github_annotations(diagnostics) == text_snapshot


def test_one_line_per_diagnostic(diagnostics: tuple[Diagnostic, ...]) -> None:
    lines = render_github_annotations(diagnostics).splitlines()
    assert lines[0].startswith(
        "::warning file=manifests/android/bf-teaser.yaml,line=9,col=3,"
        "title=override.partial-collapse::shop-android/bf-teaser: OPPO"
    )
    assert lines[1].startswith(
        "::error file=manifests/ios/launch.yaml,line=7,col=10,title=cancel.started::"
    )
    assert len(lines) == 2


def test_no_diagnostics_no_output() -> None:
    assert render_github_annotations([]) == ""


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("100%", "100%25"),
        ("one\ntwo", "one%0Atwo"),
        ("one\r\ntwo", "one%0D%0Atwo"),
        ("a: b, c", "a: b, c"),
        ("%0A", "%250A"),
    ],
)
def test_message_escaping(raw: str, escaped: str) -> None:
    assert escape_data(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("C:\\x,y.yaml", "C%3A\\x%2Cy.yaml"),
        ("50%", "50%25"),
        ("a\nb", "a%0Ab"),
    ],
)
def test_property_escaping(raw: str, escaped: str) -> None:
    assert escape_property(raw) == escaped


def test_escaping_in_a_full_annotation() -> None:
    diagnostic = Diagnostic(
        severity="error",
        code="push.size",
        address="app/a",
        file="dir,with:odd%name.yaml",
        line=3,
        column=1,
        message="body is 110% of the limit\nshorten: message.content, message.title",
    )
    assert render_github_annotations([diagnostic]) == (
        "::error file=dir%2Cwith%3Aodd%25name.yaml,line=3,col=1,title=push.size::"
        "app/a: body is 110%25 of the limit%0Ashorten: message.content, message.title\n"
    )


def test_unknown_location_is_left_out() -> None:
    no_file = Diagnostic(severity="warning", code="w", address="", message="m")
    no_line = Diagnostic(severity="error", code="e", address="a/b", file="f.yaml", message="m")
    assert render_github_annotations([no_file, no_line]) == (
        "::warning title=w::m\n::error file=f.yaml,title=e::a/b: m\n"
    )
