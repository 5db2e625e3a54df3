"""`pushctl apply` end to end: every action, then an empty plan; stale plans; the audit log."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from reconciler.domain.plan import Plan
from reconciler.domain.plan_seal import seal_plan

from .conftest import ANDROID_ID, CANARY, Project, config_yaml
from .manifests import adopted_task, android_task, docs

BEIJING = timezone(timedelta(hours=8))


def tomorrow() -> str:
    when = datetime.now(BEIJING).replace(microsecond=0) + timedelta(days=1)
    return when.isoformat()


def pushes(project: Project) -> list[dict[str, Any]]:
    return [e for e in project.emulator.ledger() if e["path"] == "/v3/push/app"]


def resealed(document: dict[str, Any]) -> str:
    """An edited plan sealed again, as `plan` would have written it: stale, not tampered."""
    plan = Plan.model_validate({**document, "seal": None})
    return seal_plan(plan, key=None).to_json()


def apply_ok(project: Project) -> str:
    result = project.run("apply", "-f", "manifests", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Converged: a fresh plan is empty." in result.stdout
    return result.stdout


def assert_no_changes(project: Project) -> None:
    result = project.run("plan", "-f", "manifests", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes. Live push tasks match the manifests." in result.stdout


def status_of(project: Project, push_id: str) -> str:
    tasks = {str(t["pushId"]): t for t in project.emulator.tasks()}
    return str(tasks[push_id]["status"])


def test_every_action_applies_and_converges(project: Project) -> None:
    seeded = project.emulator.seed(
        ANDROID_ID,
        {
            "audience_type": "all",
            "message_type": "notify",
            "message": {"title": "Old", "content": "Hi"},
        },
    )
    project.write(
        "manifests/tasks.yaml",
        docs(
            android_task("promo", url="https://shop.exmaple.com/sale"),
            android_task("teaser", title="Teaser", send_time=tomorrow(), audience="all"),
            android_task("restock", title="Restock"),
            adopted_task("legacy", seeded),
        ),
    )
    out = apply_ok(project)
    assert "legacy: adopt ok" in out
    assert [p["ret_code"] for p in pushes(project)] == [0, 0, 0]  # paced: never a 1008028
    assert_no_changes(project)

    # Override the bad link, cancel the scheduled teaser, stop the restock push.
    project.write(
        "manifests/tasks.yaml",
        docs(
            android_task("promo", state="overridden", extra_spec="  overriddenBy: promo-v2\n"),
            android_task("promo-v2", url="https://shop.example.com/sale"),
            android_task(
                "teaser", state="cancelled", title="Teaser", send_time=tomorrow(), audience="all"
            ),
            android_task("restock", state="stopped", title="Restock"),
            adopted_task("legacy", seeded),
        ),
    )
    plan = project.run("plan", "-f", "manifests", "--out", "fix.json")
    assert (
        "Plan: 0 to create, 1 to override, 0 to replace, 1 to stop, 0 to recall, 1 to cancel."
        in plan.stdout
    )
    applied = project.run("apply", "fix.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert_no_changes(project)

    ledger = project.emulator.ledger()
    override = [e for e in ledger if e["path"] == "/v3/push/app"][-1]
    assert override["body"]["collapse_id"] > 0
    assert override["body"]["message"]["android"]["action"]["browser"]["url"].endswith(
        "example.com/sale"
    )
    assert [e["path"] for e in ledger].count("/v3/push/stop_push_msg") == 1
    assert [e["path"] for e in ledger].count("/v3/push/cancel_timing_task") == 1
    statuses = sorted(str(t["status"]) for t in project.emulator.tasks())
    assert "PUSH_COLLAPSED" in statuses
    assert "PUSH_CANCELED" in statuses
    assert "PUSH_DELETED_PUSH_MSG" in statuses

    # Forget: the YAML goes away, the live task is untouched.
    project.write(
        "manifests/tasks.yaml", docs(android_task("promo-v2", url="https://shop.example.com/sale"))
    )
    forget = project.run("apply", "-f", "manifests", "--auto-approve")
    assert forget.returncode == 0, forget.stdout + forget.stderr
    assert "forget" in forget.stdout
    assert len(project.emulator.ledger()) == len(ledger)


def test_recall_where_the_app_enables_it(project: Project) -> None:
    project.emulator.admin(
        "POST",
        "/apps",
        {"access_id": ANDROID_ID, "secret": CANARY, "platform": "android", "recall_enabled": True},
    )
    project.write("pushctl.yaml", config_yaml(project.emulator.base_url, recall=True))
    project.write("manifests/a.yaml", android_task("wrong-price"))
    apply_ok(project)
    project.write("manifests/a.yaml", android_task("wrong-price", state="recalled"))
    out = apply_ok(project)
    assert "recall ok" in out
    assert [e["path"] for e in project.emulator.ledger()].count("/v3/push/revoke_push_msg") == 1
    assert_no_changes(project)


def test_stale_plans_make_no_call(project: Project) -> None:
    project.write("manifests/a.yaml", docs(android_task("one"), android_task("two", title="Two")))
    apply_ok(project)
    project.write(
        "manifests/a.yaml",
        docs(
            android_task("one", state="stopped"), android_task("two", state="stopped", title="Two")
        ),
    )
    assert project.run("plan", "-f", "manifests", "--out", "stop.json").returncode == 0
    calls_before = len(project.emulator.ledger())

    # The deadline passed.
    saved = json.loads((project.root / "stop.json").read_text())
    expired = dict(saved, not_after=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    (project.root / "expired.json").write_text(resealed(expired))
    result = project.run("apply", "expired.json")
    assert result.returncode == 4, result.stderr
    assert "expired" in result.stderr

    # The state of the plan's app moved: another apply to it ran in between.
    serials = saved["state_serials"]
    moved = dict(saved, state_serials={**serials, "shop-android": serials["shop-android"] - 1})
    (project.root / "moved.json").write_text(resealed(moved))
    result = project.run("apply", "moved.json")
    assert result.returncode == 4
    assert "state of app shop-android moved since planning" in result.stderr

    # A touched task changed live: stopped out of band.
    push_id = saved["changes"][0]["push_id"]
    stopped = project.emulator.stop_out_of_band(ANDROID_ID, push_id)
    assert stopped == 0
    result = project.run("apply", "stop.json")
    assert result.returncode == 4
    assert "plan is stale" in result.stderr
    assert len(project.emulator.ledger()) == calls_before + 1  # only the out-of-band stop


def test_audit_log_and_tamper_detection(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    apply_ok(project)
    log = project.run("audit", "log", "--json")
    records = [json.loads(line) for line in log.stdout.splitlines() if line.strip()]
    kinds = [r["entry"]["kind"] if "entry" in r else r["kind"] for r in records]
    assert kinds.count("intent") == 1
    assert kinds.count("outcome") == 1
    assert project.run("audit", "verify").returncode == 0

    db = sqlite3.connect(project.root / ".pushctl" / "state.db")
    table = next(
        name
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        if "audit" in name
    )
    db.execute(f"UPDATE {table} SET body = replace(body, 'promo', 'pr0mo') WHERE seq = 1")
    db.commit()
    db.close()
    tampered = project.run("audit", "verify")
    assert tampered.returncode == 1
    assert "is broken at record 1: changed" in tampered.stderr


def test_the_secret_never_leaves_the_environment(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    outputs = [
        project.run("validate", "-f", "manifests"),
        project.run("plan", "-f", "manifests", "--out", "plan.json", "-v"),
        project.run("apply", "plan.json"),
        project.run("plan", "-f", "manifests", "--format", "json"),
        project.run("audit", "log", "--json"),
        project.run("state", "list"),
    ]
    for result in outputs:
        assert CANARY not in result.stdout
        assert CANARY not in result.stderr
    for path in project.root.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
