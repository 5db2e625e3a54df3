"""-v and -vv show what pushctl does; without them only warnings reach stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).parents[2]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pushctl.yaml").write_text((ROOT / "pushctl.yaml").read_text())
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for source in (ROOT / "manifests").rglob("*.yaml"):
        (manifests / source.name).write_text(source.read_text())
    monkeypatch.chdir(tmp_path)
    # The sample campaign is scheduled for 2026-12-01: pin the emulator's clock before it.
    pinned = CliRunner().invoke(
        cli,
        ["emulator", "clock", "--db", ".pushctl/emulator.db", "--set", "2026-11-28T10:00:00+08:00"],
    )
    assert pinned.exit_code == 0, pinned.output
    return tmp_path


@pytest.mark.parametrize(
    ("flags", "shown", "hidden"),
    [
        ((), [], ["INFO", "DEBUG"]),
        (("-v",), ["INFO reconciler.engine.apply: shop-android/bf-teaser: intent"], ["DEBUG"]),
        (("-vv",), ["DEBUG reconciler.tpns.client: TPNS 1500001048 /v3/push/app answered"], []),
    ],
    ids=["quiet", "-v", "-vv"],
)
def test_verbosity(
    workspace: Path, flags: tuple[str, ...], shown: list[str], hidden: list[str]
) -> None:
    result = CliRunner().invoke(cli, [*flags, "apply", "-f", "manifests", "--auto-approve"])
    assert result.exit_code == 0, result.output
    for text in shown:
        assert text in result.stderr
    for text in hidden:
        assert text not in result.stderr
