"""Reads of a pull-request cycle: apply checks staleness and convergence on what it changes.

The stale check before any call reads the tasks the plan changes (a task may have moved since
the plan was made); the convergence check after the apply plans again only the tasks it
changed, whose outcome apply has just recorded. Neither reads the tasks the plan left alone.
Reads are counted by the emulator's `/reads` admin endpoint.
"""

from __future__ import annotations

from .conftest import Project, reads_seen
from .manifests import android_task, docs

NAMES = ("spring", "summer", "autumn")


def write_tasks(project: Project, *, stopped: str | None = None) -> None:
    tasks = [
        android_task(name, title=f"{name} sale", state="stopped" if name == stopped else "active")
        for name in NAMES
    ]
    project.write("manifests/sales.yaml", docs(*tasks))


def created(project: Project) -> None:
    write_tasks(project)
    result = project.run("apply", "-f", "manifests", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr


def test_apply_of_a_saved_plan_with_its_manifests_checks_convergence(project: Project) -> None:
    created(project)
    write_tasks(project, stopped="summer")
    planned = project.run("plan", "-f", "manifests", "--out", "plan.json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    before = reads_seen(project.emulator)
    applied = project.run("apply", "plan.json", "-f", "manifests", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Converged: a fresh plan is empty." in applied.stdout
    # The stale check reads the stopped task; its recorded outcome settles it, so the
    # convergence check reads nothing more.
    assert reads_seen(project.emulator) - before == 1
    after = project.run("plan", "-f", "manifests", "--detailed-exitcode")
    assert after.returncode == 0, after.stdout + after.stderr


def test_convergence_check_of_apply_f_reads_only_the_tasks_it_changed(project: Project) -> None:
    created(project)
    write_tasks(project, stopped="summer")
    before = reads_seen(project.emulator)
    plan_only = project.run("plan", "-f", "manifests", "--detailed-exitcode")
    assert plan_only.returncode == 2, plan_only.stdout + plan_only.stderr
    plan_reads = reads_seen(project.emulator) - before
    assert plan_reads >= 1
    before = reads_seen(project.emulator)
    applied = project.run("apply", "-f", "manifests", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Converged: a fresh plan is empty." in applied.stdout
    # Its plan reads as the plan above did, the stale check reads the stopped task, and the
    # convergence check re-reads none of the three.
    assert reads_seen(project.emulator) - before == plan_reads + 1
