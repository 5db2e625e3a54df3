"""Exactly-once under crashes, faults and concurrent runs, with the real `pushctl` command."""

from __future__ import annotations

import collections
import signal
import time
from collections.abc import Callable
from typing import Any

from reconciler.state import open_store

from .conftest import Project
from .manifests import android_task, docs

PUSH = "/v3/push/app"
#: Seed of the fault draws, chosen so that several mutating calls fail.
SEED = 11


def wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def open_intents(project: Project) -> int:
    store = open_store("sqlite:.pushctl/state.db", base_dir=project.root)
    try:
        return len(store.open_intents())
    finally:
        store.close()


def locks_held(project: Project) -> int:
    store = open_store("sqlite:.pushctl/state.db", base_dir=project.root)
    try:
        return len(store.list_locks())
    finally:
        store.close()


def tasks_by_title(project: Project) -> collections.Counter[str]:
    return collections.Counter(str(t["title"]) for t in project.emulator.tasks())


def set_faults(project: Project, faults: list[dict[str, Any]], seed: int = 7) -> None:
    project.emulator.admin("POST", "/faults", {"faults": faults, "seed": seed})


def fault_used(project: Project) -> bool:
    """The one-shot fault has fired: the request is inside the emulator."""
    faults = project.emulator.admin("GET", "/faults")["faults"]
    return all(f["count"] == 0 for f in faults)


def kill_during_push(project: Project, *, when: str) -> None:
    """Start an apply, SIGKILL it while its push is in flight, let the emulator finish."""
    set_faults(
        project, [{"path": PUSH, "kind": "latency", "latency_ms": 2500, "when": when, "count": 1}]
    )
    process = project.popen("apply", "-f", "manifests", "--auto-approve")
    if when == "before":  # the intent is committed; the request reached TPNS, unanswered
        wait_for(lambda: open_intents(project) == 1, what="the write-ahead intent")
        wait_for(lambda: fault_used(project), what="the push to reach the emulator")
    else:  # the task exists at TPNS; the answer is on its way
        wait_for(lambda: tasks_by_title(project)["Flash sale"] == 1, what="the committed push")
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL
    wait_for(lambda: tasks_by_title(project)["Flash sale"] == 1, what="the delayed push")
    project.emulator.admin("DELETE", "/faults")
    # The dead run's lock row stays; its process is gone from this host, so the next run
    # takes it over without waiting and without force-unlock.
    assert locks_held(project) == 1


def test_killed_before_the_answer_never_sends_twice(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    kill_during_push(project, when="before")
    assert open_intents(project) == 1
    rerun = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "taking over the state lock of app shop-android" in rerun.stderr
    assert "interrupted create" in rerun.stdout
    assert "Converged" in rerun.stdout
    assert tasks_by_title(project)["Flash sale"] == 1
    assert [e["path"] for e in project.emulator.ledger()].count(PUSH) == 1
    assert open_intents(project) == 0


def test_killed_after_the_answer_was_sent_never_sends_twice(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    kill_during_push(project, when="after")
    rerun = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "taking over the state lock of app shop-android" in rerun.stderr
    assert tasks_by_title(project)["Flash sale"] == 1
    assert [e["path"] for e in project.emulator.ledger()].count(PUSH) == 1


def test_two_concurrent_applies_one_waits_out_and_exits_3(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    set_faults(project, [{"path": PUSH, "kind": "latency", "latency_ms": 8000, "count": 1}])
    first = project.popen("apply", "-f", "manifests", "--auto-approve")
    wait_for(lambda: locks_held(project) == 1, what="the first run's lock")
    second = project.run("apply", "-f", "manifests", "--auto-approve", "--lock-timeout", "0")
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert second.returncode == 3, second.stdout + second.stderr
    assert "force-unlock" in second.stderr
    assert [e["path"] for e in project.emulator.ledger()].count(PUSH) == 1


def converge(project: Project, planned_calls: list[tuple[str, str]]) -> None:
    """Plan and apply until a fresh plan is empty: at most three runs."""
    for _ in range(3):
        project.run("plan", "-f", "manifests", "--out", "plan.json")
        planned_calls += plan_calls(project)
        result = project.run("apply", "plan.json")
        assert result.returncode in (0, 1, 4), result.stdout + result.stderr
        if project.run("plan", "-f", "manifests", "--detailed-exitcode").returncode == 0:
            return
    raise AssertionError("no convergence within three runs")


def test_twenty_percent_faults_converge_within_three_runs(project: Project) -> None:
    titles = [f"Deal {n}" for n in range(8)]
    tasks = [android_task(f"deal-{n}", title=t) for n, t in enumerate(titles)]
    project.write("manifests/a.yaml", docs(*tasks))
    faults = [
        {"path": "*", "kind": "http_5xx", "when": "before", "probability": 0.04},
        {"path": "*", "kind": "http_5xx", "when": "after", "probability": 0.04},
        {"path": "*", "kind": "drop", "when": "after", "probability": 0.04},
        {"path": "*", "kind": "ret_code", "ret_code": 1008004, "probability": 0.04},
        {"path": "*", "kind": "ret_code", "ret_code": 1008028, "probability": 0.04},
    ]
    set_faults(project, faults, seed=SEED)
    planned_calls: list[tuple[str, str]] = []
    converge(project, planned_calls)
    stopped = [t.replace("state: active", "state: stopped") for t in tasks[:4]]
    project.write("manifests/a.yaml", docs(*stopped, *tasks[4:]))
    converge(project, planned_calls)

    assert tasks_by_title(project) == collections.Counter(titles)  # one send per desired push
    statuses = collections.Counter(str(t["status"]) for t in project.emulator.tasks())
    assert statuses["PUSH_DELETED_PUSH_MSG"] == 4
    ledger = project.emulator.ledger()
    faulted = [entry for entry in ledger if entry["fault"]]
    assert len(faulted) >= 2, "the seed should make some mutating calls fail"
    for entry in ledger:
        key = (entry["path"], str(entry["body"].get("message", {}).get("title", "")))
        assert key in planned_calls, f"call not in any plan: {entry}"


def plan_calls(project: Project) -> list[tuple[str, str]]:
    import json

    saved = json.loads((project.root / "plan.json").read_text())
    return [
        (call["path"], str(call["body"].get("message", {}).get("title", "")))
        for change in saved["changes"]
        for call in change["api_calls"]
    ]
