"""SIGTERM and SIGKILL in the middle of a paced apply: the lock comes back, nothing is sent twice.

SIGTERM is how CI cancels a job: the run unwinds like Ctrl-C, gives its lock back and exits
143. SIGKILL leaves the lock row behind; the next run on this host sees that process gone and
takes the lock over by itself. Either way the next plain apply sends each push that is left,
once. PUSHCTL_SOAK=1 repeats each with the signal sent after every number of pushes.
"""

from __future__ import annotations

import collections
import os
import signal

import pytest

from reconciler.state import open_store

from .conftest import Project
from .manifests import android_task, docs
from .test_apply_safety import wait_for

PUSH = "/v3/push/app"
TITLES = [f"Wave {n}" for n in range(3)]
SOAK = os.environ.get("PUSHCTL_SOAK") == "1"
#: After how many pushes the signal is sent: one in `make test`, each in `make soak`.
AFTER = [1, 2] if SOAK else [1]


def locks_held(project: Project) -> int:
    store = open_store("sqlite:.pushctl/state.db", base_dir=project.root)
    try:
        return len(store.list_locks())
    finally:
        store.close()


def pushes(project: Project) -> collections.Counter[str]:
    return collections.Counter(
        str(entry["body"]["message"]["title"])
        for entry in project.emulator.ledger()
        if entry["path"] == PUSH and entry["ret_code"] == 0
    )


def interrupt_paced_apply(project: Project, signum: int, *, after: int) -> str:
    """Start an apply of three broadcast pushes (1/s), signal it after `after` have gone out."""
    tasks = [android_task(f"wave-{n}", title=t) for n, t in enumerate(TITLES)]
    project.write("manifests/a.yaml", docs(*tasks))
    process = project.popen("apply", "-f", "manifests", "--auto-approve")
    wait_for(lambda: sum(pushes(project).values()) >= after, what=f"{after} push(es)")
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert sum(pushes(project).values()) < len(TITLES), "the signal came too late to matter"
    return f"{process.returncode}\n{err}"


def rerun_sends_the_rest_once(project: Project) -> str:
    rerun = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "Converged: a fresh plan is empty." in rerun.stdout
    assert pushes(project) == collections.Counter(TITLES)  # each push exactly once
    assert locks_held(project) == 0
    return rerun.stderr


@pytest.mark.parametrize("after", AFTER)
def test_sigterm_exits_143_gives_the_lock_back_and_the_rerun_sends_each_push_once(
    project: Project, after: int
) -> None:
    outcome = interrupt_paced_apply(project, signal.SIGTERM, after=after)

    code, err = outcome.split("\n", 1)
    assert code == "143", err
    assert "Terminated. A push in flight is recorded as an open intent" in err
    assert "Traceback" not in err
    assert locks_held(project) == 0
    stderr = rerun_sends_the_rest_once(project)
    assert "taking over" not in stderr  # nothing left behind to take over


@pytest.mark.parametrize("after", AFTER)
def test_sigkill_leaves_a_lock_the_next_run_takes_over_by_itself(
    project: Project, after: int
) -> None:
    outcome = interrupt_paced_apply(project, signal.SIGKILL, after=after)

    assert outcome.split("\n", 1)[0] == str(-signal.SIGKILL)
    assert locks_held(project) == 1
    stderr = rerun_sends_the_rest_once(project)
    assert "taking over the state lock of app shop-android" in stderr
    assert "its process is no longer running on this host" in stderr
