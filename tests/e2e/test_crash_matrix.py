"""The crash matrix: kill the real `pushctl apply` at each boundary of each action, then recover.

PUSHCTL_TEST_CRASH_AT (a test-only hook, see reconciler/engine/crash_points.py) makes the
command signal itself at an exact point, so every case is deterministic: no sleeps, no races.
After the crash, plain `apply -f` runs (at most three) must take the dead run's lock over
without force-unlock, converge, and leave each call made exactly once at TPNS, with an outcome
record in the audit log for every intent record.

`make test` runs six cases (each action, each signal, the three boundaries that matter most);
`make soak` (PUSHCTL_SOAK=1) runs all 48: four actions, four boundaries, three signals.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.engine.crash_points import POINTS
from reconciler.state import open_store

from .conftest import ANDROID_ID, PUSHCTL, Emulator, Project, config_yaml, served_emulator
from .manifests import adopted_task, android_task

PUSH = "/v3/push/app"
STOP = "/v3/push/stop_push_msg"
CANCEL = "/v3/push/cancel_timing_task"
REVOKE = "/v3/push/revoke_push_msg"
#: Each action: the TPNS path it calls and the live status it must end in.
ACTIONS: dict[str, tuple[str, str | None]] = {
    "create": (PUSH, None),
    "stop": (STOP, "PUSH_DELETED_PUSH_MSG"),
    "cancel": (CANCEL, "PUSH_CANCELED"),
    "recall": (REVOKE, "PUSH_REVOKED"),
}
#: The manifest state that makes each task-management call.
DECLARED = {"stop": "stopped", "cancel": "cancelled", "recall": "recalled"}
EXIT_OF = {"KILL": -signal.SIGKILL, "TERM": 128 + signal.SIGTERM, "INT": 128 + signal.SIGINT}
SOAK = os.environ.get("PUSHCTL_SOAK") == "1"


@dataclass(frozen=True)
class Case:
    action: str
    point: str
    signal: str = "KILL"

    def __str__(self) -> str:
        return f"{self.action}-{self.point}-{self.signal}"


def cases() -> list[Case]:
    if SOAK:
        return [
            Case(action, point, sig)
            for action, point, sig in itertools.product(ACTIONS, POINTS, EXIT_OF)
        ]
    return [
        Case("create", "after-intent"),
        Case("create", "after-send"),
        Case("create", "after-outcome", "TERM"),
        Case("stop", "after-send"),
        Case("cancel", "after-intent", "INT"),
        Case("recall", "after-outcome", "TERM"),
    ]


@pytest.fixture(scope="module")
def shared_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator for the whole matrix, reset before each case (starting one costs ~1 s)."""
    db = tmp_path_factory.mktemp("emulator") / "emulator.db"
    with served_emulator(db, ios=False, recall=True) as emulator:
        yield emulator


def next_year() -> str:
    return (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%d %H:%M:%S")


def prepare(project: Project, action: str) -> str | None:
    """Write the manifest whose apply makes the action's call; the push id it acts on."""
    if action == "create":
        project.write("manifests/a.yaml", android_task("promo", title="Matrix"))
        return None
    body = {"audience_type": "all", "message_type": "notify"}
    body["message"] = {"title": "Matrix", "content": "c"}  # type: ignore[assignment]
    if action == "cancel":
        body["send_time"] = next_year()
    push_id = project.emulator.seed(ANDROID_ID, body)
    project.write("manifests/a.yaml", adopted_task("promo", push_id, state=DECLARED[action]))
    return push_id


def calls(project: Project, path: str) -> int:
    return [entry["path"] for entry in project.emulator.ledger()].count(path)


def locks_held(project: Project) -> int:
    store = open_store("sqlite:.pushctl/state.db", base_dir=project.root)
    try:
        return len(store.list_locks())
    finally:
        store.close()


def audit_records(project: Project) -> list[dict[str, object]]:
    result = project.run("audit", "log", "--format", "json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def intents_without_outcome(project: Project) -> list[tuple[str, str]]:
    """(address, path) of each intent record no later outcome record answers."""
    waiting: list[tuple[str, str]] = []
    for record in audit_records(project):
        what = record["what"]
        assert isinstance(what, dict)
        key = (str(what["address"]), str(what["request"].get("path")))
        if record["kind"] == "intent":
            waiting.append(key)
        elif record["kind"] == "outcome" and key in waiting:
            waiting.remove(key)
    return waiting


def start(shared_emulator: Emulator, tmp_path: Path) -> Project:
    shared_emulator.admin("POST", "/reset")
    project = Project(root=tmp_path, emulator=shared_emulator)
    project.write("pushctl.yaml", config_yaml(shared_emulator.base_url, recall=True))
    return project


def crash(project: Project, case: Case) -> subprocess.CompletedProcess[str]:
    env = {**project.env, "PUSHCTL_TEST_CRASH_AT": f"{case.point}:1:{case.signal}"}
    return subprocess.run(
        [*PUSHCTL, "apply", "-f", "manifests", "--auto-approve"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def converge(project: Project) -> int:
    """Plain applies until one converges (at most three); how many it took."""
    for run in range(1, 4):
        result = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")
        assert result.returncode in (0, 1), result.stdout + result.stderr
        settled = ("Converged: a fresh plan is empty.", "No changes. Live push tasks match")
        if result.returncode == 0 and any(line in result.stdout for line in settled):
            return run
    raise AssertionError("no convergence within three runs")


@pytest.mark.parametrize("case", cases(), ids=str)
def test_crash_at_every_boundary_sends_each_call_once_and_converges(
    shared_emulator: Emulator, tmp_path: Path, case: Case
) -> None:
    project = start(shared_emulator, tmp_path)
    push_id = prepare(project, case.action)
    path, final_status = ACTIONS[case.action]

    crashed = crash(project, case)

    assert crashed.returncode == EXIT_OF[case.signal], crashed.stdout + crashed.stderr
    sent = 0 if case.point in ("before-intent", "after-intent") else 1
    assert calls(project, path) == sent
    # SIGKILL leaves the lock row behind; SIGTERM and SIGINT give it back on the way out.
    assert locks_held(project) == (1 if case.signal == "KILL" else 0)

    assert converge(project) <= 3
    assert calls(project, path) == 1, project.emulator.ledger()
    tasks = project.emulator.tasks()
    assert len(tasks) == 1
    assert tasks[0]["status"] == (final_status or tasks[0]["status"])
    if push_id is not None:
        assert str(tasks[0]["pushId"]) == push_id
    assert intents_without_outcome(project) == []


@pytest.mark.parametrize("action", ["stop", "cancel", "recall"])
def test_a_call_killed_after_it_left_gets_its_outcome_from_the_next_apply(
    shared_emulator: Emulator, tmp_path: Path, action: str
) -> None:
    project = start(shared_emulator, tmp_path)
    push_id = prepare(project, action)
    path, final_status = ACTIONS[action]

    crashed = crash(project, Case(action, "after-send"))

    assert crashed.returncode == EXIT_OF["KILL"], crashed.stdout + crashed.stderr
    assert project.emulator.tasks()[0]["status"] == final_status  # TPNS did it
    assert intents_without_outcome(project) == [("shop-android/promo", path)]

    applied = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")

    assert applied.returncode == 0, applied.stdout + applied.stderr
    found = f"done (found at next run: push {push_id} is {final_status})"
    assert f"Resolved: shop-android/promo: interrupted {action} of run" in applied.stdout
    assert found in applied.stdout
    assert intents_without_outcome(project) == []
    outcome = audit_records(project)[-1]
    assert outcome["kind"] == "outcome"
    assert outcome["what"] == {
        "action": action,
        "address": "shop-android/promo",
        "push_id": push_id,
        "request": {
            "path": path,
            "call_id": outcome["what"]["request"]["call_id"],  # type: ignore[index]
            "resolved_by": "next run",
        },
    }
    assert outcome["result"] == {"ret_code": 0, "err_msg": f"resolved open call: {found}"}
    assert project.run("audit", "verify").returncode == 0
    after = project.run("plan", "-f", "manifests", "--format", "json")
    assert after.returncode == 0, after.stderr
    plan = json.loads(after.stdout)
    assert (plan["changes"], plan["diagnostics"]) == ([], [])
    assert calls(project, path) == 1, project.emulator.ledger()
