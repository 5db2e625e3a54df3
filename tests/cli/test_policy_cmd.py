"""`validate` and `plan` enforce the policy of pushctl.yaml before any TPNS call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).parents[2]
TYPO = "manifests/campaigns/black-friday.yaml:29:21: error[policy.links] shop-android/bf-flash-sale"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample manifests under the demo's policy config (links: example.com only)."""
    (tmp_path / "pushctl.yaml").write_text((ROOT / "scripts" / "demo-policy.yaml").read_text())
    for source in (ROOT / "manifests").rglob("*.yaml"):
        target = tmp_path / "manifests" / source.relative_to(ROOT / "manifests")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOP_ANDROID_SECRET_KEY", "k1")
    monkeypatch.setenv("SHOP_IOS_SECRET_KEY", "k2")
    return tmp_path


def test_validate_catches_the_demo_typo_at_the_url(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", "manifests"])
    assert result.exit_code == 1
    assert TYPO in result.output
    assert "did you mean https://shop.example.com/black-friday?" in result.output
    assert "1 error, 0 warnings" in result.output


def test_the_fixed_manifests_pass(workspace: Path) -> None:
    fix = workspace / "manifests" / "campaigns" / "black-friday.yaml"
    fix.write_text((ROOT / "scripts" / "demo-fix.yaml").read_text())
    result = CliRunner().invoke(cli, ["validate", "-f", "manifests"])
    assert result.exit_code == 0, result.output
    assert "All manifests are valid (4 tasks)." in result.output


def test_without_a_policy_the_typo_is_not_an_error(workspace: Path) -> None:
    (workspace / "pushctl.yaml").write_text((ROOT / "pushctl.yaml").read_text())
    result = CliRunner().invoke(cli, ["validate", "-f", "manifests"])
    assert result.exit_code == 0, result.output


def test_validate_json_carries_the_policy_code(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", "manifests", "--format", "json"])
    found = [d for d in json.loads(result.output)["diagnostics"] if d["code"] == "policy.links"]
    assert [(d["line"], d["column"], d["address"]) for d in found] == [
        (29, 21, "shop-android/bf-flash-sale")
    ]


def test_plan_refuses_before_reading_tpns(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "-f", "manifests"])
    assert result.exit_code == 1
    assert TYPO in result.output
    assert "nothing was read or planned" in str(result.exception)
    assert not (workspace / ".pushctl" / "emulator.db").exists()


def test_a_policy_warning_lets_plan_go_on(workspace: Path) -> None:
    config = workspace / "pushctl.yaml"
    config.write_text(config.read_text() + "  severity: {links: warning}\n")
    result = CliRunner().invoke(cli, ["validate", "-f", "manifests"])
    assert result.exit_code == 0, result.output
    assert "warning[policy.links]" in result.output


def test_a_wrong_policy_is_located_in_pushctl_yaml(workspace: Path) -> None:
    config = workspace / "pushctl.yaml"
    text = config.read_text().replace("*.example.com", "https://example.com")
    config.write_text(text)
    line = text.splitlines().index('    allow: [example.com, "https://example.com"]') + 1
    result = CliRunner().invoke(cli, ["validate", "-f", "manifests"])
    assert result.exit_code == 1
    assert f"pushctl.yaml:{line}:" in result.output
    assert "is not a host name" in result.output


def test_the_config_schema_covers_the_policy() -> None:
    result = CliRunner().invoke(cli, ["schema", "--kind", "config"])
    schema = json.loads(result.output)
    policy = schema["definitions"]["NotificationPolicy"]["properties"]
    assert set(policy) == {
        "links",
        "requireAnnotations",
        "content",
        "quietHours",
        "maxBroadcastsPerDay",
        "severity",
    }
    severity = schema["definitions"]["PolicySeverity"]["properties"]
    assert severity["quietHours"]["enum"] == ["error", "warning", "off"]
    channels = schema["definitions"]["ContentPolicy"]["properties"]["channels"]
    assert channels["items"] == {"$ref": "#/definitions/ChannelName"}
    assert {"tpns", "huawei", "ios-banner"} <= set(schema["definitions"]["ChannelName"]["enum"])


def test_plan_refuses_an_immediate_push_inside_quiet_hours(workspace: Path) -> None:
    fix = workspace / "manifests" / "campaigns" / "black-friday.yaml"
    fix.write_text(fix.read_text().replace("shop.exmaple.com", "shop.example.com"))
    config = workspace / "pushctl.yaml"
    quiet = '  quietHours: {zone: Asia/Shanghai, start: "22:00", end: "08:00"}\n'
    config.write_text(config.read_text() + quiet)
    late = [
        "emulator",
        "clock",
        "--db",
        ".pushctl/emulator.db",
        "--set",
        "2026-11-28T23:30:00+08:00",
    ]
    assert CliRunner().invoke(cli, late).exit_code == 0
    result = CliRunner().invoke(cli, ["plan", "-f", "manifests"])
    assert result.exit_code == 1, result.output
    assert (
        "Error: [policy.quiet-hours] shop-android/bf-flash-sale "
        "(manifests/campaigns/black-friday.yaml:2:1): this push has no send_time"
    ) in result.stdout
    # ios-welcome is immediate too; the teaser is scheduled for 09:00, outside the window.
    assert "[policy.quiet-hours] shop-ios/ios-welcome" in result.stdout
    assert "[policy.quiet-hours] shop-android/bf-teaser" not in result.stdout
    # validate has no clock: it checks only the send_time written in the manifests.
    assert CliRunner().invoke(cli, ["validate", "-f", "manifests"]).exit_code == 0


SECOND_BROADCAST = """
apiVersion: pushctl/v1
kind: PushTask
metadata: {name: cyber-monday-noon, app: shop-android, annotations: {ticket: MKT-200}}
spec:
  state: active
  push:
    audience_type: all
    message_type: notify
    message: {title: "Cyber Monday: noon deals", content: "New deals are live."}
    send_time: "2026-12-01T12:00:00+08:00"
"""


def test_plan_counts_broadcasts_already_created(workspace: Path) -> None:
    fix = workspace / "manifests" / "campaigns" / "black-friday.yaml"
    fix.write_text(fix.read_text().replace("shop.exmaple.com", "shop.example.com"))
    config = workspace / "pushctl.yaml"
    config.write_text(config.read_text() + "  maxBroadcastsPerDay: 1\n")
    pinned = [
        "emulator",
        "clock",
        "--db",
        ".pushctl/emulator.db",
        "--set",
        "2026-11-28T10:00:00+08:00",
    ]
    assert CliRunner().invoke(cli, pinned).exit_code == 0
    applied = CliRunner().invoke(cli, ["apply", "-f", "manifests", "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    (workspace / "manifests" / "noon.yaml").write_text(SECOND_BROADCAST)
    result = CliRunner().invoke(cli, ["plan", "-f", "manifests"])
    assert result.exit_code == 1, result.output
    assert (
        "Error: [policy.broadcasts] shop-android/cyber-monday-noon (manifests/noon.yaml:2:1)"
        in result.stdout
    )
    assert "with shop-android/bf-teaser (created for 2026-12-01" in result.stdout
