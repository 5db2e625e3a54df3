"""The demo and every example run as their READMEs say, with the real `pushctl`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "before").is_dir())


def run_script(*command: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_there_are_the_three_promised_examples() -> None:
    assert EXAMPLES == ["cancel-scheduled-campaign", "fix-bad-link", "stop-running-push"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_converges(name: str) -> None:
    result = run_script("bash", "examples/run.sh", name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("No changes. Live push tasks match the manifests.")
    expected = {
        "fix-bad-link": "1 to override",
        "cancel-scheduled-campaign": "1 to cancel",
        "stop-running-push": "1 to stop",
    }[name]
    assert expected in result.stdout


def test_demo_tells_the_whole_story() -> None:
    result = run_script("bash", "scripts/demo.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Plan: 3 to create" in out
    assert (
        "Plan: 0 to create, 1 to override, 0 to replace, 0 to stop, 0 to recall, 1 to cancel."
        in out
    )
    assert out.count("No changes. Live push tasks match the manifests.") == 2
    assert "chain intact" in out
    # The last act: a link policy refuses the manifests as first reviewed, at the typo.
    assert "before-fix/campaigns/black-friday.yaml:29:21: error[policy.links]" in out
    assert "did you mean https://shop.example.com/black-friday?" in out
    assert out.rstrip().endswith("All manifests are valid (4 tasks).")
