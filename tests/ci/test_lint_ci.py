"""The linters `make lint-ci` runs over what ships accept it, and catch what they are for.

Both run offline: check-jsonschema with the schemas it bundles, zizmor with `--offline`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = ["examples/ci/github-actions.yml", "reconciler/cli/scaffold/github-workflow.yml"]
GITLAB = ["examples/ci/gitlab-ci.yml", "templates/gitlab/pushctl.gitlab-ci.yml"]


def check_jsonschema(schema: str, *files: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def zizmor(*files: Path | str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "zizmor"), "--offline", "--no-progress", "--config", "zizmor.yml"]
    return subprocess.run(
        [*command, *map(str, files)], cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-actions", ["action.yml"]),
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.gitlab-ci", GITLAB),
    ],
)
def test_shipped_files_match_their_schema(schema: str, files: list[str]) -> None:
    result = check_jsonschema(schema, *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_action(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    text = (REPO / "action.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("using: composite", "using: compost"), encoding="utf-8")
    assert check_jsonschema("vendor.github-actions", broken).returncode != 0


def test_zizmor_passes_what_ships() -> None:
    result = zizmor("action.yml", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_an_unpinned_third_party_action(tmp_path: Path) -> None:
    workflow = tmp_path / "workflow.yml"
    text = (REPO / WORKFLOWS[0]).read_text(encoding="utf-8")
    unpinned = text.replace(
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "actions/checkout@v4"
    )
    workflow.write_text(unpinned, encoding="utf-8")
    result = zizmor(workflow)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout + result.stderr
