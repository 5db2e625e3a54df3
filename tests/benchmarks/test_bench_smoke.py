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


def test_whole_process_prints_each_figure_beside_its_target() -> None:
    out = run_module(
        "benchmarks.whole_process",
        *("--tasks", "40", "--tasks-per-app", "20", "--repeat", "1", "--files", "4"),
    )
    for figure in (
        "plan CPU s (empty state)",
        "plan CPU s (adopted)",
        "parse-only CPU s",
        "peak RSS MB",
        "PR cycle reads (plan, apply, plan)",
        "pushctl --help CPU s",
        "pushctl validate (one file) CPU s",
        "render 40 changes, markdown CPU s",
    ):
        assert figure in out
    # At this size every task fits one page per app: the reads meet their bound exactly.
    assert out.count("= 2 (bound)  yes") == 2
