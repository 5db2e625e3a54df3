"""`pushctl validate` and `pushctl plan` end to end, against the emulator on loopback."""

from __future__ import annotations

import json

from .conftest import Project, reads_seen
from .manifests import android_task, docs

RECORD = "/v3/statistics/get_push_record"


def test_invalid_manifest_is_located_and_never_reaches_the_network(project: Project) -> None:
    project.write(
        "manifests/bad.yaml",
        android_task("promo").replace("message_type: notify", "mesage_type: notify"),
    )
    result = project.run("plan", "-f", "manifests")
    assert result.returncode == 1
    assert "manifests/bad.yaml:" in result.stderr
    assert "manifests/bad.yaml:19:5:" in result.stderr
    assert "(did you mean `message_type`?)" in result.stderr
    assert project.emulator.ledger() == []
    assert reads_seen(project.emulator) == 0


def test_validate_formats(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo", state="recalled"))
    text = project.run("validate", "-f", "manifests")
    assert text.returncode == 1
    assert "recall" in text.stdout
    github = project.run("validate", "-f", "manifests", "--format", "github")
    assert github.returncode == 1
    assert github.stdout.startswith("::error file=manifests/a.yaml,line=")
    as_json = json.loads(project.run("validate", "-f", "manifests", "--format", "json").stdout)
    assert as_json["valid"] is False
    assert as_json["error_count"] == 1


def test_plan_counts_the_reads_the_emulator_saw(project: Project) -> None:
    project.write(
        "manifests/campaign.yaml",
        docs(
            android_task("one"), android_task("two", title="Two"), android_task("three", title="3")
        ),
    )
    first = project.run("plan", "-f", "manifests", "--format", "json", "--detailed-exitcode")
    assert first.returncode == 2, first.stderr
    fresh = json.loads(first.stdout)
    assert fresh["summary"]["create"] == 3
    # Nothing is bound yet: the duplicate guard lists the app's live tasks once (one page).
    assert reads_seen(project.emulator) == 1
    assert fresh["api_usage"] == {"calls": {RECORD: 1}, "lower_bound": 1}

    applied = project.run("apply", "-f", "manifests", "--auto-approve")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    before = reads_seen(project.emulator)

    planned = project.run("plan", "-f", "manifests", "--format", "json", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    made = sum(plan["api_usage"]["calls"].values())
    assert made == reads_seen(project.emulator) - before
    assert made == plan["api_usage"]["lower_bound"] == 1
    assert plan["summary"]["create"] == 0


def test_saved_plan_shows_in_every_format(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    assert project.run("plan", "-f", "manifests", "--out", "plan.json").returncode == 0
    saved = json.loads((project.root / "plan.json").read_text())
    assert saved["format_version"] == "1.1"
    assert saved["changes"][0]["action"] == "create"
    assert saved["changes"][0]["api_calls"][0]["path"] == "/v3/push/app"
    text = project.run("show", "plan.json")
    assert "+ shop-android/promo will be created" in text.stdout
    markdown = project.run("show", "plan.json", "--format", "markdown")
    assert "<details>" in markdown.stdout
    assert json.loads(project.run("show", "plan.json", "--format", "json").stdout) == saved


def test_target_limits_the_plan(project: Project) -> None:
    project.write("manifests/a.yaml", docs(android_task("one"), android_task("two", title="Two")))
    result = project.run("plan", "-f", "manifests", "--target", "shop-android/two")
    assert "shop-android/two" in result.stdout
    assert "shop-android/one" not in result.stdout
    assert "Plan: 1 to create" in result.stdout
    unknown = project.run("plan", "-f", "manifests", "--target", "shop-android/nope")
    assert unknown.returncode == 64


def test_loader_errors_come_out_as_annotations_and_json(project: Project) -> None:
    project.write(
        "manifests/bad.yaml",
        android_task("promo").replace("      title:", "      titel:"),
    )
    github = project.run("validate", "-f", "manifests", "--format", "github")
    assert github.returncode == 1
    assert github.stdout.startswith("::error file=manifests/bad.yaml,line=")
    assert "titel" in github.stdout
    as_json = json.loads(project.run("validate", "-f", "manifests", "--format", "json").stdout)
    assert as_json["valid"] is False
    assert as_json["diagnostics"][0]["file"] == "manifests/bad.yaml"
    assert as_json["diagnostics"][0]["line"] > 1


def test_a_plan_with_errors_is_never_applied(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    assert project.run("apply", "-f", "manifests", "--auto-approve").returncode == 0
    # A delivered push cannot be edited: the plan has an error and no change.
    project.write("manifests/a.yaml", android_task("promo", url="https://shop.example.com/new"))
    planned = project.run("plan", "-f", "manifests", "--out", "bad.json")
    assert planned.returncode == 1
    assert "No changes planned: the errors above must be fixed first." in planned.stdout
    assert "There is nothing to apply." in planned.stdout
    applied = project.run("apply", "bad.json")
    assert applied.returncode == 1
    assert "has errors and cannot be applied" in applied.stderr
