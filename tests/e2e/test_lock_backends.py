"""Locks of the real `pushctl apply` on both state backends: concurrent runs and a lost lock.

PostgreSQL comes from the pgserver wheel, started once for this module. PUSHCTL_SOAK=1 runs
more trials with more applies at once.
"""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from reconciler.errors import LockNotAcquired
from reconciler.state import LockHolder, open_store

from .conftest import Project
from .manifests import android_task, docs
from .test_apply_safety import wait_for

PUSH = "/v3/push/app"
TITLES = [f"Drop {n}" for n in range(4)]
SOAK = os.environ.get("PUSHCTL_SOAK") == "1"
TRIALS = range(5 if SOAK else 1)
AT_ONCE = 4 if SOAK else 2
_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite:.pushctl/state.db"
    return postgres_database(request.getfixturevalue("e2e_postgres_server"))


def postgres_database(server: Any) -> str:
    """The URL of a new, empty database: one per test."""
    name = f"pushctl_e2e_{next(_databases)}"
    with psycopg.connect(str(server.get_uri()), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return str(server.get_uri(database=name))


def use_state(project: Project, url: str, titles: list[str] = TITLES) -> None:
    config = (project.root / "pushctl.yaml").read_text()
    project.write(
        "pushctl.yaml", config.replace("state: sqlite:.pushctl/state.db", f"state: {url}")
    )
    tasks = [android_task(f"drop-{n}", title=t) for n, t in enumerate(titles)]
    project.write("manifests/a.yaml", docs(*tasks))


def locks(project: Project, url: str) -> list[Any]:
    store = open_store(url, base_dir=project.root)
    try:
        return store.list_locks()
    finally:
        store.close()


def pushes(project: Project) -> collections.Counter[str]:
    return collections.Counter(
        str(entry["body"]["message"]["title"])
        for entry in project.emulator.ledger()
        if entry["path"] == PUSH and entry["ret_code"] == 0
    )


def pushes_arrived(project: Project) -> int:
    """Pushes that reached the emulator, answered or not: the latency faults they used."""
    (fault,) = project.emulator.admin("GET", "/faults")["faults"]
    return 9 - int(fault["count"])


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


@pytest.mark.parametrize("trial", TRIALS)
def test_applies_at_once_send_each_push_once(project: Project, state_url: str, trial: int) -> None:
    titles = TITLES[:2]
    use_state(project, state_url, titles)
    # The first push answered takes 3 s: the runs that lose the race arrive while it is held.
    slow = {"path": PUSH, "kind": "latency", "latency_ms": 3000, "when": "before", "count": 1}
    project.emulator.admin("POST", "/faults", {"faults": [slow], "seed": 1})
    apply = ("apply", "-f", "manifests", "--auto-approve")
    runs = [project.popen(*apply) for _ in range(AT_ONCE)]
    runs.append(project.popen(*apply, "--lock-timeout", "0"))

    results = [finish(process) for process in runs]

    # One run wins the lock and sends; the others waited and found their plan stale (4) or
    # did not wait (3). One so slow to start that it planned after the winner finished finds
    # nothing to do (0, "No changes"). None sends a thing.
    senders = [output for code, output in results if code == 0 and "Apply complete" in output]
    assert len(senders) == 1, results
    for code, output in results:
        assert code in (0, 3, 4), output
        assert code != 0 or output in senders or "No changes." in output, output
    assert pushes(project) == collections.Counter(titles)
    assert locks(project, state_url) == []


def holder() -> LockHolder:
    return LockHolder.new(
        user="second", host="another-runner", run_id="r2", commit=None, now=datetime.now(UTC)
    )


@pytest.mark.parametrize("trial", TRIALS)
def test_postgres_apply_whose_lock_session_ends_stops_before_its_next_push(
    project: Project, e2e_postgres_server: Any, trial: int
) -> None:
    url = postgres_database(e2e_postgres_server)
    use_state(project, url)
    # Each push takes 2 s to be answered. The session is ended while the second push is in
    # flight, so the run is certainly alive when the second run asks for the lock, and its
    # next check (before the third push) comes after.
    slow = {"path": PUSH, "kind": "latency", "latency_ms": 2000, "when": "before", "count": 9}
    project.emulator.admin("POST", "/faults", {"faults": [slow], "seed": 1})
    second = open_store(url, base_dir=project.root)
    running = project.popen("apply", "-f", "manifests", "--auto-approve")
    try:
        wait_for(lambda: pushes_arrived(project) >= 2, what="the second push to arrive")
        # The lock's session ends (idle_session_timeout, failover, pooler); the run lives on.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(backend_pid, 5000) FROM pushctl_locks")
        # A second apply may not start while the first may still be sending.
        with pytest.raises(LockNotAcquired, match="held by"):
            second.acquire(["shop-android"], holder(), timeout=0)
        code, output = finish(running)
    finally:
        second.close()
        if running.poll() is None:
            running.kill()
            finish(running)

    assert code == 1, output
    assert "database session holding the state locks of shop-android" in output
    assert sum(pushes(project).values()) < len(TITLES), "the run should have stopped"
    assert locks(project, url) == []  # given back on the way out
    project.emulator.admin("DELETE", "/faults")
    rerun = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "Converged: a fresh plan is empty." in rerun.stdout
    assert pushes(project) == collections.Counter(TITLES)
