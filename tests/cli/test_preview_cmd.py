"""The preview through the real commands: plan's text and HTML, show's HTML on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).parents[2]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pushctl.yaml").write_text((ROOT / "pushctl.yaml").read_text())
    for source in (ROOT / "manifests").rglob("*.yaml"):
        target = tmp_path / "manifests" / source.relative_to(ROOT / "manifests")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOP_ANDROID_SECRET_KEY", "k1")
    monkeypatch.setenv("SHOP_IOS_SECRET_KEY", "k2")
    # The sample campaign is scheduled for 2026-12-01: pin the emulator's clock before it.
    pinned = CliRunner().invoke(
        cli,
        ["emulator", "clock", "--db", ".pushctl/emulator.db", "--set", "2026-11-28T10:00:00+08:00"],
    )
    assert pinned.exit_code == 0, pinned.output
    return tmp_path


def test_the_text_plan_previews_the_demo(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "-f", "manifests"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "What phones will show:" in out
    assert "tap opens https://shop.exmaple.com/black-friday in the browser" in out
    assert (
        "Meizu, OPPO       refused (title 34 > 32 characters)  falls back to the TPNS channel"
        in out
    )
    assert "reaches all devices of app shop-android" in out
    assert "Reaches all devices: shop-android/bf-teaser." in out


def test_show_writes_only_the_page_to_stdout(workspace: Path) -> None:
    made = CliRunner().invoke(cli, ["plan", "-f", "manifests", "--out", "plan.json"])
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(cli, ["show", "plan.json", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.endswith("</html>\n")
    assert 'data-address="shop-android/bf-flash-sale"' in result.stdout
    assert "Integrity: intact" in result.stderr


def test_plan_writes_html(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "-f", "manifests", "--format", "html"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count('<article class="notification"') == 3
    assert '<li class="send"><time datetime="2026-12-01T09:00:00+08:00">' in result.stdout
