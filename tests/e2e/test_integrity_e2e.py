"""The reviewed plan is the plan that runs, and the audit log needs the key to forge.

The real `pushctl` against the emulator on loopback: edited, unsigned or wrongly signed plans
and plans made from other manifests make no call (the emulator's ledger says so); apply leaves
a checkpoint that catches a cut-off tail; a keyless rewrite of the audit log is caught with
the key.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from typing import Any

from reconciler.state.audit import GENESIS_HASH, record_hash

from .conftest import PUSHCTL, Project
from .manifests import android_task, docs

PLAN_KEY = "plan-key-for-the-e2e-tests-0001"
OTHER_PLAN_KEY = "plan-key-for-the-e2e-tests-0002"
AUDIT_KEY = "audit-key-for-the-e2e-tests-001"
TAMPERED = "the plan file was changed after it was written"


def run(project: Project, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PUSHCTL, *args],
        cwd=project.root,
        env={**project.env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def plan_with_a_stop_and_a_create(project: Project, out: str = "plan.json", **env: str) -> None:
    project.write("manifests/a.yaml", android_task("one"))
    first = run(project, "apply", "-f", "manifests", "--auto-approve", **env)
    assert first.returncode == 0, first.stderr
    project.write(
        "manifests/a.yaml",
        docs(android_task("one", state="stopped"), android_task("two", title="Two")),
    )
    planned = run(project, "plan", "-f", "manifests", "--out", out, **env)
    assert planned.returncode == 0, planned.stderr


Edit = Callable[[dict[str, Any]], None]


def change(doc: dict[str, Any], action: str) -> dict[str, Any]:
    return next(c for c in doc["changes"] if c["action"] == action)


def set_title(doc: dict[str, Any]) -> None:
    change(doc, "create")["api_calls"][0]["body"]["message"]["title"] = "Hacked"


def set_push_id(doc: dict[str, Any]) -> None:
    stop = change(doc, "stop")
    stop["push_id"] = "1"
    stop["api_calls"][0]["body"]["pushId"] = "1"


def add_call(doc: dict[str, Any]) -> None:
    push = copy.deepcopy(change(doc, "create")["api_calls"][0])
    change(doc, "stop")["api_calls"].append(push)


EDITS: dict[str, Edit] = {
    "body": set_title,
    "push id": set_push_id,
    "added call": add_call,
    "not_after": lambda doc: doc.update(not_after="2099-01-01T00:00:00Z"),
    "serials": lambda doc: doc.update(state_serials={"shop-android": 99}),
}


def test_every_kind_of_plan_edit_is_refused_with_no_call(project: Project) -> None:
    plan_with_a_stop_and_a_create(project)
    saved = json.loads((project.root / "plan.json").read_text())
    calls = len(project.emulator.ledger())

    for name, edit in EDITS.items():
        document = copy.deepcopy(saved)
        edit(document)
        (project.root / "edited.json").write_text(json.dumps(document, indent=2))
        applied = run(project, "apply", "edited.json")
        assert applied.returncode == 1, name
        assert TAMPERED in applied.stderr, name
        assert len(project.emulator.ledger()) == calls, name

    shown = run(project, "show", "edited.json")
    assert shown.returncode == 1
    assert "Integrity: NOT INTACT" in shown.stdout
    assert "Integrity: intact (digest sha256:" in run(project, "show", "plan.json").stdout
    applied = run(project, "apply", "plan.json")
    assert applied.returncode == 0, applied.stderr
    assert sorted(e["path"] for e in project.emulator.ledger()[calls:]) == [
        "/v3/push/app",
        "/v3/push/stop_push_msg",
    ]


def test_removing_the_error_of_a_plan_is_refused(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("promo"))
    assert run(project, "apply", "-f", "manifests", "--auto-approve").returncode == 0
    project.write("manifests/a.yaml", android_task("promo", url="https://shop.example.com/new"))
    assert run(project, "plan", "-f", "manifests", "--out", "bad.json").returncode == 1
    document = json.loads((project.root / "bad.json").read_text())
    assert document["diagnostics"]
    calls = len(project.emulator.ledger())

    document.update(diagnostics=[], applyable=True)
    (project.root / "bad.json").write_text(json.dumps(document))
    applied = run(project, "apply", "bad.json")

    assert applied.returncode == 1
    assert TAMPERED in applied.stderr
    assert len(project.emulator.ledger()) == calls


def test_with_a_plan_key_only_plans_signed_with_it_run(project: Project) -> None:
    plan_with_a_stop_and_a_create(project, "signed.json", PUSHCTL_PLAN_KEY=PLAN_KEY)
    assert run(project, "plan", "-f", "manifests", "--out", "unsigned.json").returncode == 0
    calls = len(project.emulator.ledger())

    wrong = run(project, "apply", "signed.json", PUSHCTL_PLAN_KEY=OTHER_PLAN_KEY)
    assert wrong.returncode == 1
    assert "signed with another key than PUSHCTL_PLAN_KEY" in wrong.stderr
    unsigned = run(project, "apply", "unsigned.json", PUSHCTL_PLAN_KEY=PLAN_KEY)
    assert unsigned.returncode == 1
    assert "is not signed, and PUSHCTL_PLAN_KEY is set" in unsigned.stderr
    assert len(project.emulator.ledger()) == calls

    shown = run(project, "show", "signed.json", PUSHCTL_PLAN_KEY=PLAN_KEY)
    assert "Signature: valid for PUSHCTL_PLAN_KEY" in shown.stdout
    applied = run(project, "apply", "signed.json", PUSHCTL_PLAN_KEY=PLAN_KEY)
    assert applied.returncode == 0, applied.stderr
    assert len(project.emulator.ledger()) == calls + 2


def test_apply_with_f_refuses_a_plan_made_from_other_manifests(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("one"))
    planned = run(project, "plan", "-f", "manifests", "--out", "plan.json", GITHUB_SHA="a" * 40)
    assert planned.returncode == 0, planned.stderr
    saved = json.loads((project.root / "plan.json").read_text())
    assert saved["source"]["commit"] == "a" * 40
    assert sorted(saved["source"]["inputs"]) == ["manifests/a.yaml", "pushctl.yaml"]

    project.write("manifests/a.yaml", android_task("one", title="Changed after review"))
    project.write("manifests/b.yaml", android_task("extra"))
    moved = run(project, "apply", "plan.json", "-f", "manifests")

    assert moved.returncode == 4
    assert "changed: manifests/a.yaml; new: manifests/b.yaml" in moved.stderr
    assert f"made from commit {'a' * 40}" in moved.stderr
    assert project.emulator.ledger() == []

    project.write("manifests/a.yaml", android_task("one"))
    (project.root / "manifests" / "b.yaml").unlink()
    applied = run(project, "apply", "plan.json", "-f", "manifests")
    assert applied.returncode == 0, applied.stderr
    assert [e["path"] for e in project.emulator.ledger()] == ["/v3/push/app"]


def rewrite_first_record_and_rehash(project: Project) -> None:
    """Someone with write access but no key: change record 1, recompute every hash after it."""
    with closing(sqlite3.connect(project.root / ".pushctl" / "state.db")) as db, db:
        rows = db.execute("SELECT seq, body FROM pushctl_audit ORDER BY seq").fetchall()
        prev = GENESIS_HASH
        for seq, stored in rows:
            body = stored.replace('"action":"create"', '"action":"stop"') if seq == 1 else stored
            new_hash = record_hash(prev, body)
            db.execute(
                "UPDATE pushctl_audit SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (body, prev, new_hash, seq),
            )
            prev = new_hash
        db.execute("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (prev,))


def test_the_audit_head_checkpoint_and_key_catch_what_the_chain_alone_cannot(
    project: Project,
) -> None:
    project.write("manifests/a.yaml", docs(android_task("one"), android_task("two")))
    applied = run(
        project,
        "apply",
        "-f",
        "manifests",
        "--auto-approve",
        "--audit-head-out",
        "heads.txt",
        PUSHCTL_AUDIT_KEY=AUDIT_KEY,
    )
    assert applied.returncode == 0, applied.stderr
    [line] = (project.root / "heads.txt").read_text().splitlines()
    head = line.removeprefix("audit_head=")
    assert f"Audit head: {head}" in applied.stdout
    assert head.startswith("4:")
    verified = run(project, "audit", "verify", "--expect-head", line, PUSHCTL_AUDIT_KEY=AUDIT_KEY)
    assert verified.returncode == 0, verified.stderr
    assert "MACs checked with PUSHCTL_AUDIT_KEY: 4 records keyed." in verified.stdout

    rewrite_first_record_and_rehash(project)

    keyless = run(project, "audit", "verify")
    assert keyless.returncode == 0
    assert "Internal consistency only" in keyless.stdout
    keyed = run(project, "audit", "verify", PUSHCTL_AUDIT_KEY=AUDIT_KEY)
    assert keyed.returncode == 1
    assert "broken at record 1: forged" in keyed.stderr
    checkpoint = run(project, "audit", "verify", "--expect-head", head)
    assert checkpoint.returncode == 1
    assert "broken at record 4: changed" in checkpoint.stderr


def test_a_cut_off_tail_is_caught_against_the_checkpoint(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("one"))
    applied = run(project, "apply", "-f", "manifests", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    head = applied.stdout.split("Audit head: ")[1].split()[0]
    with closing(sqlite3.connect(project.root / ".pushctl" / "state.db")) as db, db:
        [(first_hash,)] = db.execute("SELECT hash FROM pushctl_audit WHERE seq = 1").fetchall()
        db.execute("DELETE FROM pushctl_audit WHERE seq = 2")
        db.execute("UPDATE pushctl_meta SET value = '1' WHERE key = 'audit_count'")
        db.execute("UPDATE pushctl_meta SET value = ? WHERE key = 'audit_hash'", (first_hash,))

    assert run(project, "audit", "verify").returncode == 0
    cut = run(project, "audit", "verify", "--expect-head", head)
    assert cut.returncode == 1
    assert "broken at record 2: truncated" in cut.stderr


def test_the_address_column_cannot_hide_a_record(project: Project) -> None:
    project.write("manifests/a.yaml", android_task("one"))
    assert run(project, "apply", "-f", "manifests", "--auto-approve").returncode == 0
    with closing(sqlite3.connect(project.root / ".pushctl" / "state.db")) as db, db:
        db.execute("UPDATE pushctl_audit SET address = 'shop-android/elsewhere' WHERE seq = 1")

    hidden = run(project, "audit", "log", "--address", "shop-android/one", "--format", "json")
    assert [json.loads(line)["seq"] for line in hidden.stdout.splitlines()] == [2]
    verified = run(project, "audit", "verify")
    assert verified.returncode == 1
    assert "broken at record 1: changed (record 1's address column says" in verified.stderr
