"""`pushctl init` end to end, and the files the project ships for editors and CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from reconciler.cli.init_cmd import project_files
from reconciler.domain.manifest.schema import (
    PUSHTASK_SCHEMA_ID,
    config_json_schema,
    manifest_json_schema,
)

REPO = Path(__file__).parents[2]
PUSHCTL = [sys.executable, "-m", "reconciler"]


def pushctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PUSHCTL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_init_then_validate_then_plan_on_the_embedded_emulator(tmp_path: Path) -> None:
    created = pushctl("init", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "shop"
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == sorted(
        project_files()
    )
    valid = pushctl("validate", cwd=project)
    assert valid.returncode == 0, valid.stderr
    assert "All manifests are valid (1 task)" in valid.stdout
    plan = pushctl("plan", "--detailed-exitcode", "--format", "json", cwd=project)
    assert plan.returncode == 2, plan.stderr
    document = json.loads(plan.stdout)
    assert [c["address"] for c in document["changes"]] == ["demo-android/welcome"]
    assert document["summary"]["create"] == 1


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "pushctl.yaml").write_text("apps: {}\n", encoding="utf-8")
    refused = pushctl("init", cwd=tmp_path)
    assert refused.returncode == 64
    assert "pushctl.yaml" in refused.stderr
    assert "--force" in refused.stderr
    assert (tmp_path / "pushctl.yaml").read_text(encoding="utf-8") == "apps: {}\n"
    assert not (tmp_path / "manifests").exists()  # nothing written at all
    forced = pushctl("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert "demo-android" in (tmp_path / "pushctl.yaml").read_text(encoding="utf-8")


def test_scaffolded_manifests_carry_the_schema_modeline() -> None:
    files = project_files()
    assert files["manifests/welcome.yaml"].startswith(
        "# yaml-language-server: $schema=../schema/pushtask.schema.json\n"
    )
    assert files["pushctl.yaml"].startswith(
        "# yaml-language-server: $schema=schema/pushctl-config.schema.json\n"
    )


def test_schema_files_in_the_repository_are_up_to_date() -> None:
    for name, schema in (
        ("pushtask.schema.json", manifest_json_schema()),
        ("pushctl-config.schema.json", config_json_schema()),
    ):
        on_disk = json.loads((REPO / "schema" / name).read_text(encoding="utf-8"))
        assert on_disk == schema, f"run: pushctl schema > schema/{name}"
    assert manifest_json_schema()["$id"] == PUSHTASK_SCHEMA_ID


def test_scaffolded_workflow_is_the_linted_example() -> None:
    example = (REPO / "examples/ci/github-actions.yml").read_text(encoding="utf-8")
    assert project_files()[".github/workflows/pushctl.yml"] == example


def test_pre_commit_hook_validates_without_filenames() -> None:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [(h["id"], h["entry"], h["pass_filenames"]) for h in hooks] == [
        ("pushctl-validate", "pushctl validate", False)
    ]
