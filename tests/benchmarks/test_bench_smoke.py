"""The benchmarks still run (at a toy size) and print their tables; timings are not judged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run_module(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_plan_scale_prints_reads_beside_their_lower_bound() -> None:
    out = run_module("benchmarks.plan_scale", "--tasks", "60")
    assert "lower bound" in out
    assert "read calls" in out


def test_apply_scale_prints_rates_beside_the_limits() -> None:
    out = run_module(
        "benchmarks.apply_scale", "--overrides", "2", "--stops", "20", "--baseline", "10"
    )
    assert "override" in out
    assert "1008028 replies: none" in out
