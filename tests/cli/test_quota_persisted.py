"""The get_push_record quota is remembered between commands through the state store's call log.

Each command builds new TPNS clients; without the log every one of them would believe the full
200 calls of the hour were left (docs/design.md: check the quota before any call).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.context import Workspace
from reconciler.cli.main import cli
from reconciler.cli.state_choice import StateChoice
from reconciler.domain.manifest.config import load_config
from reconciler.emulator import EmulatorCore
from reconciler.errors import QuotaExceeded
from reconciler.state import open_store
from reconciler.tpns.endpoints import GET_PUSH_RECORD, PUSH_APP

ANDROID_ID = "1500001048"
SECRET_ENV = "PUSHCTL_QUOTA_TEST_SECRET"

CONFIG = f"""\
apps:
  shop-android:
    accessId: "{ANDROID_ID}"
    platform: android
    endpoint: emulator
    secretKeyEnv: {SECRET_ENV}
    capabilities: {{recall: false}}
state: sqlite:.pushctl/state.db
"""


def task(name: str) -> str:
    return f"""\
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: {name}
  app: shop-android
spec:
  state: active
  push:
    audience_type: tag
    tag_rules:
      - operator: OR
        is_not: false
        tag_items:
          - tags: [vip]
            is_not: false
            tags_operator: OR
            items_operator: OR
            tag_type: xg_user_define
    message_type: notify
    message:
      title: "Flash sale"
      content: "Open {name}"
"""


@dataclass
class Project:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "pushctl.yaml"

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli,
            ["--config", str(self.config), *args],
            env={SECRET_ENV: "quota-test-secret"},
            catch_exceptions=True,
        )

    def plan(self, *args: str) -> Result:
        return self.run("plan", "-f", str(self.root / "manifests"), "--refresh=all", *args)

    def remaining(self) -> int:
        """What a new command's ledger for the app believes is left this hour."""
        config = load_config(self.config)
        workspace = Workspace(
            config=config,
            config_path=self.config,
            env={**os.environ, SECRET_ENV: "quota-test-secret"},
            state=StateChoice(config.state, str(self.config), self.config.parent),
        )
        try:
            return workspace.client_for("shop-android").quota.remaining(GET_PUSH_RECORD)
        finally:
            workspace.close()

    def reads(self) -> int:
        """get_push_record calls the embedded emulator accepted in the last hour."""
        core = EmulatorCore(db_path=self.root / ".pushctl" / "emulator.db")
        try:
            return core.read_counts().get(ANDROID_ID, {}).get(GET_PUSH_RECORD, 0)
        finally:
            core.close()

    def emulator_now(self) -> float:
        core = EmulatorCore(db_path=self.root / ".pushctl" / "emulator.db")
        try:
            return core.now().timestamp()
        finally:
            core.close()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    project.config.write_text(CONFIG, encoding="utf-8")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "tasks.yaml").write_text(
        "---\n".join(task(name) for name in ("promo", "restock", "teaser")), encoding="utf-8"
    )
    applied = project.run("apply", "-f", str(manifests), "--auto-approve")
    assert applied.exit_code == 0, applied.output + repr(applied.exception)
    return project


def test_a_plan_spends_quota_the_next_command_sees(project: Project) -> None:
    reads_before, left_before = project.reads(), project.remaining()
    # apply's convergence check read the new tasks back: already counted.
    assert reads_before > 0
    assert left_before == 200 - reads_before

    result = project.plan()

    assert result.exit_code == 0, result.output + repr(result.exception)
    made = project.reads() - reads_before
    assert made > 0
    assert project.remaining() == left_before - made

    again = project.plan()

    assert again.exit_code == 0, again.output + repr(again.exception)
    assert project.remaining() == left_before - (project.reads() - reads_before)
    assert project.remaining() < left_before - made


def test_a_refresh_beyond_the_logged_quota_stops_before_any_call(project: Project) -> None:
    now = project.emulator_now()
    with open_store("sqlite:.pushctl/state.db", base_dir=project.root) as store:
        # Another CI job on the same state spent the hour's quota minutes ago.
        store.record_calls("shop-android", GET_PUSH_RECORD, [now - 60 - i for i in range(200)])
    reads_before = project.reads()

    result = project.plan()

    assert result.exit_code == 1
    assert isinstance(result.exception, QuotaExceeded), result.output + repr(result.exception)
    assert "refreshing app shop-android needs" in str(result.exception)
    assert "0 are left this hour" in str(result.exception)
    assert project.reads() == reads_before


def test_calls_outside_the_hour_do_not_hold_the_quota(project: Project) -> None:
    now = project.emulator_now()
    with open_store("sqlite:.pushctl/state.db", base_dir=project.root) as store:
        store.record_calls("shop-android", GET_PUSH_RECORD, [now - 3601 - i for i in range(200)])
    reads_before = project.reads()

    result = project.plan()

    assert result.exit_code == 0, result.output + repr(result.exception)
    assert project.reads() > reads_before


def test_each_broadcast_push_is_logged_at_its_answer_for_the_next_command(
    project: Project,
) -> None:
    core = EmulatorCore(db_path=project.root / ".pushctl" / "emulator.db")
    try:
        received = [
            datetime.fromisoformat(entry["time"]).timestamp()
            for entry in core.ledger()
            if entry["path"] == PUSH_APP and entry["ret_code"] == 0
        ]
    finally:
        core.close()
    with open_store("sqlite:.pushctl/state.db", base_dir=project.root) as store:
        logged = store.calls_since("shop-android", PUSH_APP, 0.0)

    # One entry per push the fixture's apply sent, each no earlier than TPNS took it in: a
    # rerun or another job spaces its first push from there, and TPNS sees at least 1 s.
    assert len(received) == 3
    assert len(logged) == 3
    assert all(answered >= taken for answered, taken in zip(logged, received, strict=True))
