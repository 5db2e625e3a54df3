"""`pushctl import`: live tasks become manifests that adopt them; the next plan only adopts."""

from __future__ import annotations

from .conftest import ANDROID_ID, Project

EXISTING = """\
# Campaigns owned by the growth team. Keep this comment.
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: kept
  app: shop-android
spec:
  state: active
  pushId: "{push_id}"
"""


def test_import_appends_adopting_manifests_and_keeps_the_file(project: Project) -> None:
    emulator = project.emulator
    body = {"audience_type": "all", "message_type": "notify"}
    kept = emulator.seed(ANDROID_ID, {**body, "message": {"title": "Kept", "content": "k"}})
    live = emulator.seed(ANDROID_ID, {**body, "message": {"title": "Summer sale", "content": "s"}})
    stopped = emulator.seed(
        ANDROID_ID,
        {**body, "message": {"title": "Stopped one", "content": "x"}},
        status="PUSH_DELETED_PUSH_MSG",
    )
    target = project.write("manifests/imported.yaml", EXISTING.format(push_id=kept))

    result = project.run("import", "--app", "shop-android", "--out", "manifests/imported.yaml")
    assert result.returncode == 0, result.stderr
    assert "Imported 2 task(s)" in result.stderr
    text = target.read_text()
    assert text.startswith("# Campaigns owned by the growth team. Keep this comment.\n")
    assert text.index("name: kept") < text.index(f'pushId: "{live}"')
    assert f"name: summer-sale-{live}" in text
    assert f"name: stopped-one-{stopped}" in text
    assert "state: stopped" in text

    plan = project.run("plan", "-f", "manifests", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "State only: 3 to adopt" in plan.stdout
    assert (
        "Plan: 0 to create, 0 to override, 0 to replace, 0 to stop, 0 to recall, 0 to cancel."
        in plan.stdout
    )
    applied = project.run("apply", "-f", "manifests", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert emulator.ledger() == []  # adopting touches no live task

    again = project.run("import", "--app", "shop-android", "--out", "manifests/imported.yaml")
    assert "Imported 0 task(s)" in again.stderr
    assert target.read_text() == text


def test_import_into_a_new_file_starts_with_the_schema_modeline(project: Project) -> None:
    body = {"audience_type": "all", "message_type": "notify"}
    project.emulator.seed(ANDROID_ID, {**body, "message": {"title": "Sale", "content": "s"}})

    result = project.run("import", "--app", "shop-android", "--out", "manifests/new/live.yaml")
    assert result.returncode == 0, result.stderr
    text = (project.root / "manifests/new/live.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema/pushtask.schema.json\n")
    assert project.run("validate", "-f", "manifests").returncode == 0
