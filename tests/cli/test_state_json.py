"""`pushctl state list|show --format json`: what scripts read instead of the tables."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.records import TaskBinding
from reconciler.state import open_store


def seeded(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:{tmp_path / 'state.db'}"
    with open_store(url, base_dir=tmp_path) as store:
        store.put_binding(
            TaskBinding(
                address="shop-ios/old-promo", app="shop-ios", push_id="77", created_by_pushctl=False
            )
        )
        lineage = store.snapshot().lineage
    return url, lineage


def test_state_list_json(tmp_path: Path) -> None:
    url, lineage = seeded(tmp_path)
    result = CliRunner().invoke(cli, ["state", "--state", url, "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["lineage"], document["serial"], document["open_intents"]) == (lineage, 0, 0)
    assert [(t["address"], t["push_id"]) for t in document["tasks"]] == [
        ("shop-ios/old-promo", "77")
    ]
    assert document["tasks"][0]["created_by_pushctl"] is False


def test_state_show_json(tmp_path: Path) -> None:
    url, _ = seeded(tmp_path)
    args = ["state", "--state", url, "show", "shop-ios/old-promo", "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["push_id"] == "77"
    assert document["last_status"] is None
