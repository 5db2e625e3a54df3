"""The GitHub action's scripts and the GitLab template's plan job, run as CI would run them,
against `pushctl emulator serve`, with scratch GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
GITHUB_EVENT_PATH files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.e2e.conftest import Project
from tests.e2e.manifests import android_task

REPO = Path(__file__).parents[2]
PUSHCTL_BIN = str(Path(sys.executable).parent / "pushctl")
MARKER = "<!-- pushctl:plan -->"


def run_action(
    project: Project, *, unset: tuple[str, ...] = (), **inputs: str
) -> tuple[int, dict[str, str], str]:
    """Run ci/github/run.sh; return its exit status, the step outputs and the job summary."""
    scratch = project.root.parent / "runner"
    scratch.mkdir(exist_ok=True)
    outputs, summary, event = scratch / "output", scratch / "summary", scratch / "event.json"
    for path in (outputs, summary):
        path.write_text("", encoding="utf-8")
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    env = {
        **{k: v for k, v in project.env.items() if k not in unset},
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_PATH": str(event),
        "RUNNER_TEMP": str(scratch),
        "PUSHCTL_BIN": PUSHCTL_BIN,
        **{f"INPUT_{key.upper()}": value for key, value in inputs.items()},
    }
    result = subprocess.run(
        ["bash", str(REPO / "ci/github/run.sh")],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = outputs.read_text(encoding="utf-8").splitlines()
    parsed = dict(line.split("=", 1) for line in lines)
    return result.returncode, parsed, summary.read_text(encoding="utf-8") + result.stdout


def test_plan_with_changes_sets_every_output(project: Project) -> None:
    project.write("manifests/sale.yaml", android_task("sale"))
    code, outputs, summary = run_action(project, command="plan")
    assert code == 0
    assert outputs["exit-code"] == "2"
    assert outputs["has-changes"] == "true"
    plan_file = project.root / outputs["plan-file"]
    seal = json.loads(plan_file.read_text(encoding="utf-8")).get("seal") or {}
    file_digest = "sha256:" + hashlib.sha256(plan_file.read_bytes()).hexdigest()
    assert outputs["plan-digest"] == seal.get("digest", file_digest)
    comment = Path(outputs["comment-file"]).read_text(encoding="utf-8")
    assert comment.startswith(MARKER + "\n")
    assert "shop-android/sale" in comment
    assert "shop-android/sale" in summary
    assert MARKER not in summary.split("::notice")[0]
    assert "::notice title=pushctl plan::pushctl plan: 1 create" in summary
    assert project.emulator.ledger() == []  # plan calls nothing that changes TPNS


def test_plan_without_changes_says_so(project: Project) -> None:
    project.write("manifests/.keep.yaml", "")
    code, outputs, _ = run_action(project, command="plan")
    assert (code, outputs["exit-code"], outputs["has-changes"]) == (0, "0", "false")


def test_invalid_manifests_annotate_and_still_write_the_comment(project: Project) -> None:
    project.write("manifests/sale.yaml", android_task("sale", state="canceled"))
    code, outputs, log = run_action(project, command="plan")
    assert code == 1
    assert outputs["exit-code"] == "1"
    assert "plan-file" not in outputs
    assert "::error file=manifests/sale.yaml,line=" in log
    comment = Path(outputs["comment-file"]).read_text(encoding="utf-8")
    assert comment.startswith(MARKER)
    assert "the manifests are invalid" in comment
    assert "did you mean `cancelled`?" in comment


def test_plan_that_fails_after_validation_still_writes_the_comment(project: Project) -> None:
    project.write("manifests/sale.yaml", android_task("sale"))
    # The SecretKey missing: valid manifests, but the plan itself fails.
    code, outputs, _ = run_action(project, command="plan", unset=("SHOP_ANDROID_SECRET_KEY",))
    assert code == 1
    comment = Path(outputs["comment-file"]).read_text(encoding="utf-8")
    assert comment.startswith(MARKER)
    assert "pushctl plan failed (exit 1)" in comment
    assert "SHOP_ANDROID_SECRET_KEY is not set" in comment


def test_apply_makes_the_calls_of_the_plan(project: Project) -> None:
    project.write("manifests/sale.yaml", android_task("sale"))
    run_action(project, command="plan")
    code, outputs, summary = run_action(project, command="apply", check_manifests="false")
    assert code == 0, summary
    assert outputs["exit-code"] == "0"
    assert outputs["plan-digest"].startswith("sha256:") or outputs["plan-digest"]
    assert [entry["path"] for entry in project.emulator.ledger()] == ["/v3/push/app"]
    assert "pushctl apply: done" in summary


def fake_gh(folder: Path, replies: dict[str, str]) -> Path:
    """A `gh` that logs its arguments and answers `gh api`/`gh issue list` from `replies`."""
    folder.mkdir(exist_ok=True)
    script = folder / "gh"
    cases = "\n".join(f"  *\"{key}\"*) printf %s '{value}' ;;" for key, value in replies.items())
    script.write_text(
        f'#!/usr/bin/env bash\necho "$*" >> "{folder}/calls"\ncase "$*" in\n{cases}\n'
        "  *) ;;\nesac\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.mark.parametrize(("existing", "expected"), [("", "--method POST"), ("42", "comments/42")])
def test_sticky_comment_replaces_the_marked_comment(
    tmp_path: Path, existing: str, expected: str
) -> None:
    body = tmp_path / "comment.md"
    body.write_text(MARKER + "\n### plan\n", encoding="utf-8")
    bin_dir = fake_gh(tmp_path / "bin", {"--paginate": existing})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if k != "PR_NUMBER"},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BODY_FILE": str(body),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "shop/push",
    }
    subprocess.run(["bash", str(REPO / "ci/github/sticky-comment.sh")], env=env, check=True)
    calls = (bin_dir / "calls").read_text(encoding="utf-8").splitlines()
    assert MARKER in calls[0]  # looked for the marked comment
    assert "repos/shop/push/issues/7/comments" in calls[0]  # the event's pull request
    assert expected in calls[1]
    assert f"body=@{body}" in calls[1]


@pytest.mark.parametrize(("existing", "expected"), [("", "issue create"), ("9", "issue edit 9")])
def test_drift_issue_opened_or_updated(tmp_path: Path, existing: str, expected: str) -> None:
    body = tmp_path / "drift.md"
    body.write_text(MARKER + "\n### 1 to create\n", encoding="utf-8")
    bin_dir = fake_gh(tmp_path / "bin", {"issue list": existing})
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "BODY_FILE": str(body)}
    subprocess.run(["bash", str(REPO / "ci/github/drift-issue.sh")], env=env, check=True)
    calls = (bin_dir / "calls").read_text(encoding="utf-8").splitlines()
    assert calls[1].startswith(expected)
    assert f"--body-file {body}" in calls[1]


def test_action_maps_its_outputs_to_the_script_outputs() -> None:
    action = YAML(typ="safe").load((REPO / "action.yml").read_text(encoding="utf-8"))
    written = (REPO / "ci/github/run.sh").read_text(encoding="utf-8")
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
        assert f"output {name} " in written
    secrets_in = [s.get("env", {}) for s in action["runs"]["steps"]]
    # The token reaches only the steps that talk to GitHub.
    assert [("GH_TOKEN" in env) for env in secrets_in] == [False, False, True, True]


def gitlab_plan_script() -> str:
    template = REPO / "templates/gitlab/pushctl.gitlab-ci.yml"
    document = YAML(typ="safe").load(template.read_text(encoding="utf-8"))
    return "\n".join(document["pushctl-plan"]["script"])


def test_gitlab_plan_job_writes_note_and_terraform_report(project: Project) -> None:
    project.write("manifests/sale.yaml", android_task("sale"))
    bin_dir = Path(PUSHCTL_BIN).parent
    env = {
        **project.env,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PUSHCTL_PATHS": "manifests",
        "PUSHCTL_NOTE_MARKER": MARKER,
    }
    result = subprocess.run(
        ["bash", "-e", "-c", gitlab_plan_script()],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((project.root / "plan-report.json").read_text(encoding="utf-8"))
    assert report == {"create": 1, "update": 0, "delete": 0}
    note = (project.root / "plan.md").read_text(encoding="utf-8")
    assert note.startswith(MARKER + "\n")
    assert "shop-android/sale" in note


def test_gitlab_plan_job_fails_with_the_reason_in_the_note(project: Project) -> None:
    project.write("manifests/sale.yaml", android_task("sale", state="canceled"))
    env = {
        **project.env,
        "PATH": f"{Path(PUSHCTL_BIN).parent}:{os.environ['PATH']}",
        "PUSHCTL_PATHS": "manifests",
        "PUSHCTL_NOTE_MARKER": MARKER,
    }
    result = subprocess.run(
        ["bash", "-e", "-c", gitlab_plan_script()],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    note = (project.root / "plan.md").read_text(encoding="utf-8")
    assert "pushctl plan failed (exit 1)" in note
    assert "did you mean `cancelled`?" in note
