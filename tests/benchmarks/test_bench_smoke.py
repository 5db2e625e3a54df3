"""The benchmarks still run (at a toy size) and print their tables; timings are not judged."""

from __future__ import annotations

import re
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
        "pushctl --help CPU s",
        "pushctl validate (one file) CPU s",
        "render 40 changes, markdown CPU s",
    ):
        assert figure in out
    # At this size every task fits one page per app: the reads meet their bound exactly.
    assert out.count("= 2 (bound)  yes") == 2
    rows = table_rows(out)
    assert rows["PR cycle reads (plan, apply -f)"][2] == "yes", out
    assert rows["full plan after the cycle"][2] == "yes", out


def table_rows(out: str) -> dict[str, list[str]]:
    """figure -> [measured, target, met] of each row of a printed figure table."""
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]
    return {row[0]: row[1:] for row in rows if len(row) == 4}


def test_year_scale_reads_only_readable_unsettled_tasks() -> None:
    out = run_module(
        "benchmarks.year_scale",
        *("--tasks", "300", "--unsettled", "20", "--apps", "2", "--repeat", "1"),
    )
    rows = table_rows(out)
    for figure in ("plan CPU s", "parse-only CPU s", "ratio (per task)", "peak RSS MB"):
        assert figure in rows, out
    assert rows["tasks"][0] == "300"
    # The world as built (the benchmark's own count): tasks are 1.2 days apart, 275 are past
    # the horizon, 5 more are settled as declared. What pushctl did is the reads below.
    assert rows["past the record horizon"][0] == "275"
    assert rows["readable and unsettled"][0] == "20"
    # Ten tasks an app, one page each: the reads meet the bound.
    assert rows["lower bound"] == ["2", "= 2 (ceil(unsettled/200) per app)", "yes"]
    assert rows["reads made"] == ["2", "= 2 (bound)", "yes"]
    assert rows["PR cycle reads (plan, apply -f)"][2] == "yes"
    assert rows["full plan after the cycle"][2] == "yes"
