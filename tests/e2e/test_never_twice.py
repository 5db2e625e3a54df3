"""A push is never sent twice, even when pushctl's state is lost, edited or interrupted.

Each scenario runs the real command against the emulator on loopback and counts, in the
emulator, the tasks created per title: every declared push must exist exactly once.
"""

from __future__ import annotations

import collections
import json
import shutil
import signal
from pathlib import Path

from .conftest import Project, config_yaml
from .manifests import adopted_task, android_task, docs
from .test_apply_safety import set_faults, tasks_by_title, wait_for

PUSH = "/v3/push/app"
RECORD = "/v3/statistics/get_push_record"
STATE_FILES = (".pushctl/state.db", ".pushctl/state.db-wal", ".pushctl/state.db-shm")


def pushes(project: Project) -> list[dict[str, object]]:
    return [e for e in project.emulator.ledger() if e["path"] == PUSH]


def apply(project: Project, *args: str, env: dict[str, str] | None = None) -> str:
    result = project.run("apply", "-f", "manifests", "--auto-approve", *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def plan_json(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = project.run("plan", "-f", "manifests", "--format", "json", *args, env=env)
    assert result.returncode in (0, 1, 2), result.stderr
    return dict(json.loads(result.stdout))


def assert_converged(project: Project, env: dict[str, str] | None = None) -> None:
    """An empty plan with no diagnostics at all, not only "no changes"."""
    plan = plan_json(project, env=env)
    assert plan["changes"] == [], plan["changes"]
    assert plan["diagnostics"] == [], plan["diagnostics"]


def codes(plan: dict[str, object]) -> list[str]:
    return [str(d["code"]) for d in plan["diagnostics"]]  # type: ignore[attr-defined]


def actions(plan: dict[str, object]) -> list[tuple[str, str]]:
    return [(str(c["address"]), str(c["action"])) for c in plan["changes"]]  # type: ignore[attr-defined]


def campaign(project: Project) -> None:
    project.write(
        "manifests/campaign.yaml",
        docs(
            android_task("flash"),
            android_task("teaser", title="Teaser", send_time="2026-12-20T09:00:00+08:00"),
        ),
    )


def test_a_lost_state_file_adopts_what_was_sent(project: Project) -> None:
    campaign(project)
    apply(project)
    for name in STATE_FILES:
        (project.root / name).unlink(missing_ok=True)

    plan = plan_json(project)
    assert sorted(actions(plan)) == [
        ("shop-android/flash", "adopt"),
        ("shop-android/teaser", "adopt"),
    ]
    assert sorted(codes(plan)) == ["guard.recognised", "guard.recognised"]
    assert "push 1000000" in json.dumps(plan["diagnostics"])
    apply(project)
    assert tasks_by_title(project) == {"Flash sale": 1, "Teaser": 1}
    assert len(pushes(project)) == 2
    assert_converged(project)


def test_state_rm_then_apply_adopts_the_same_push(project: Project) -> None:
    campaign(project)
    apply(project)
    removed = project.run("state", "rm", "--yes", "shop-android/flash")
    assert removed.returncode == 0, removed.stderr
    assert "adopts push" in removed.stdout

    assert actions(plan_json(project)) == [("shop-android/flash", "adopt")]
    apply(project)
    assert tasks_by_title(project) == {"Flash sale": 1, "Teaser": 1}
    assert_converged(project)


def test_a_manifest_removed_applied_and_restored_is_adopted_again(project: Project) -> None:
    campaign(project)
    apply(project)
    flash = (project.root / "manifests/campaign.yaml").read_text()
    project.write(
        "manifests/campaign.yaml",
        android_task("teaser", title="Teaser", send_time="2026-12-20T09:00:00+08:00"),
    )
    assert "forget" in [a for _, a in actions(plan_json(project))]
    apply(project)
    project.write("manifests/campaign.yaml", flash)  # git revert

    assert actions(plan_json(project)) == [("shop-android/flash", "adopt")]
    apply(project)
    assert tasks_by_title(project) == {"Flash sale": 1, "Teaser": 1}
    assert_converged(project)
    # The restored binding is the real one: stopping the task stops that push.
    stopped = (
        (project.root / "manifests/campaign.yaml")
        .read_text()
        .replace("state: active", "state: stopped", 1)
    )
    project.write("manifests/campaign.yaml", stopped)
    apply(project)
    statuses = {str(t["title"]): str(t["status"]) for t in project.emulator.tasks()}
    assert statuses["Flash sale"] == "PUSH_DELETED_PUSH_MSG"
    assert_converged(project)


def test_ctrl_c_during_paced_pushes_leaves_only_the_push_in_flight_open(project: Project) -> None:
    # A grace period longer than the test: an unsent push held back would fail the rerun.
    config = config_yaml(project.emulator.base_url).replace(
        "readBackGraceSeconds: 0", "readBackGraceSeconds: 600"
    )
    project.write("pushctl.yaml", config)
    titles = [f"Deal {n}" for n in range(4)]
    project.write(
        "manifests/deals.yaml",
        docs(*(android_task(f"deal-{n}", title=t) for n, t in enumerate(titles))),
    )
    run = project.popen("apply", "-f", "manifests", "--auto-approve")
    wait_for(lambda: len(pushes(project)) >= 1, what="the first broadcast push")
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    sent = len(pushes(project))
    assert sent < len(titles), "interrupted too late to test anything"

    listed = project.run("state", "list")
    open_line = [line for line in listed.stdout.splitlines() if "open intent" in line]
    assert open_line == [] or open_line[0].startswith("1 open intent"), listed.stdout
    rerun = project.run("apply", "-f", "manifests", "--auto-approve")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "may still show up" not in rerun.stdout + rerun.stderr
    assert tasks_by_title(project) == collections.Counter(titles)
    assert_converged(project)


def digest(name: str) -> str:
    return android_task(name, title="Weekly digest").replace(f"Open {name}", "This week's picks")


def test_the_weekly_digest_goes_out_once_per_task_and_ambiguity_sends_nothing(
    project: Project,
) -> None:
    project.write("manifests/digest.yaml", digest("digest-w1"))
    apply(project)
    # Same content, new task: the bound push is not claimed, so it is sent, once.
    project.write("manifests/digest.yaml", docs(digest("digest-w1"), digest("digest-w2")))
    assert actions(plan_json(project)) == [("shop-android/digest-w2", "create")]
    apply(project)
    assert tasks_by_title(project) == {"Weekly digest": 2}
    assert_converged(project)

    # The state is lost: two tasks, two identical live pushes, no way to tell them apart.
    shutil.rmtree(project.root / ".pushctl")
    before = len(project.emulator.ledger())
    result = project.run("plan", "-f", "manifests", "--format", "json")
    assert result.returncode == 1
    plan = json.loads(result.stdout)
    assert codes(plan) == ["guard.ambiguous", "guard.ambiguous"]
    assert "Declare `pushId:` on each task that was sent" in plan["diagnostics"][0]["message"]
    refused = project.run("apply", "-f", "manifests", "--auto-approve")
    assert refused.returncode == 1
    assert [e for e in project.emulator.ledger()[before:] if e["path"] == PUSH] == []

    # The next step the error gives: declare the push ids; then nothing is sent either.
    ids = sorted(str(t["pushId"]) for t in project.emulator.tasks())
    adopted = [adopted_task(f"digest-w{n}", push_id) for n, push_id in enumerate(ids, 1)]
    project.write("manifests/digest.yaml", docs(*adopted))
    apply(project)
    assert tasks_by_title(project) == {"Weekly digest": 2}
    assert_converged(project)


def test_a_guard_that_cannot_look_refuses_the_create_unless_the_risk_is_accepted(
    project: Project,
) -> None:
    campaign(project)
    set_faults(project, [{"path": RECORD, "kind": "http_5xx", "when": "before", "count": 8}])
    result = project.run("plan", "-f", "manifests", "--format", "json")
    assert result.returncode == 1
    plan = json.loads(result.stdout)
    assert codes(plan) == ["guard.unavailable", "guard.unavailable"]
    assert "--accept-duplicate-risk" in plan["diagnostics"][0]["message"]
    assert pushes(project) == []

    set_faults(project, [{"path": RECORD, "kind": "http_5xx", "when": "before", "count": 8}])
    risky = plan_json(project, "--accept-duplicate-risk")
    assert sorted(a for _, a in actions(risky)) == ["create", "create"]
    assert sorted(codes(risky)) == ["guard.no-history", "guard.unchecked", "guard.unchecked"]


def test_apply_in_ci_refuses_local_state_and_says_how_to_share_it(project: Project) -> None:
    campaign(project)
    result = project.run("apply", "-f", "manifests", "--auto-approve", env={"CI": "true"})
    assert result.returncode == 1
    assert "PUSHCTL_STATE=postgresql://" in result.stderr
    assert project.emulator.ledger() == []
    apply(project, "--allow-local-state", env={"CI": "true"})
    assert tasks_by_title(project) == {"Flash sale": 1, "Teaser": 1}


def runner(tmp_path: Path, name: str, project: Project) -> Project:
    """A fresh checkout on a throw-away CI runner: the repository files and nothing else."""
    root = tmp_path / name
    root.mkdir()
    clone = Project(root=root, emulator=project.emulator)
    shutil.copy(project.root / "pushctl.yaml", root / "pushctl.yaml")
    shutil.copytree(project.root / "manifests", root / "manifests")
    return clone


def test_two_ci_runners_share_a_postgresql_state(
    project: Project, tmp_path: Path, e2e_postgres_url: str
) -> None:
    campaign(project)
    ci = {"CI": "true", "PUSHCTL_STATE": e2e_postgres_url}
    first = runner(tmp_path, "runner-1", project)
    apply(first, env=ci)
    assert not (first.root / ".pushctl/state.db").exists()

    second = runner(tmp_path, "runner-2", project)
    assert_converged(second, env=ci)
    stopped = (
        (second.root / "manifests/campaign.yaml")
        .read_text()
        .replace("state: active", "state: stopped", 1)
    )
    second.write("manifests/campaign.yaml", stopped)
    apply(second, env=ci)

    third = runner(tmp_path, "runner-3", second)
    assert_converged(third, env=ci)
    assert tasks_by_title(project) == {"Flash sale": 1, "Teaser": 1}
    assert [e["path"] for e in project.emulator.ledger()].count(PUSH) == 2
    verified = third.run("audit", "verify", env=ci)
    assert verified.returncode == 0, verified.stderr


def test_state_migrate_moves_everything_to_postgresql(
    project: Project, e2e_postgres_url: str
) -> None:
    campaign(project)
    apply(project)
    moved = project.run("state", "migrate", "--to", e2e_postgres_url)
    assert moved.returncode == 0, moved.stderr
    assert "2 task(s)" in moved.stdout
    assert "chain intact" in moved.stdout
    shared = {"PUSHCTL_STATE": e2e_postgres_url}
    assert_converged(project, env=shared)
    again = project.run("state", "migrate", "--to", e2e_postgres_url)
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_state_url_expands_variables_and_refuses_a_password_in_the_file(project: Project) -> None:
    config = (project.root / "pushctl.yaml").read_text()
    project.write(
        "pushctl.yaml", config.replace("sqlite:.pushctl/state.db", "sqlite:${STATE_DIR}/s.db")
    )
    campaign(project)
    unset = project.run("plan", "-f", "manifests")
    assert unset.returncode == 1
    assert "${STATE_DIR}" in unset.stderr
    assert project.run("plan", "-f", "manifests", env={"STATE_DIR": "shared"}).returncode == 0
    assert (project.root / "shared/s.db").exists()

    project.write(
        "pushctl.yaml",
        config.replace("sqlite:.pushctl/state.db", "postgresql://ci:hunter2@db/pushctl"),
    )
    leaked = project.run("plan", "-f", "manifests")
    assert leaked.returncode == 1
    assert "PGPASSWORD" in leaked.stderr
    assert "hunter2" not in leaked.stderr + leaked.stdout
