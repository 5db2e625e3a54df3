"""`pushctl emulator serve` option handling (serving itself is covered by test_server.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli.emulator_cmd import emulator, parse_app_option
from reconciler.emulator import AppSpec


def test_non_loopback_host_is_a_usage_error() -> None:
    result = CliRunner().invoke(emulator, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback only" in result.output


def test_malformed_app_is_a_usage_error() -> None:
    result = CliRunner().invoke(emulator, ["serve", "--app", "1500001048:android"])
    assert result.exit_code == 2
    assert "ID:SECRET:PLATFORM" in result.output


def test_app_option_parsing() -> None:
    parsed = parse_app_option("1600000001:s3cret:ios", recall=True, rate_limits=False)
    assert parsed == AppSpec("1600000001", "s3cret", "ios", recall_enabled=True, rate_limits=False)
    with pytest.raises(click.BadParameter, match="android or ios"):
        parse_app_option("1:s:web", recall=False, rate_limits=True)


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(emulator, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--app", "--no-rate-limits", "--recall"):
        assert option in result.output


def test_serve_prints_the_base_url_and_answers(tmp_path: Path) -> None:
    pushctl = Path(sys.executable).parent / "pushctl"
    db = tmp_path / "state" / "tpns.db"
    args = [str(pushctl), "emulator", "serve", "--port", "0", "--db", str(db)]
    args += ["--app", "1500001048:demo-secret:android", "--no-rate-limits"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("TPNS emulator listening on http://127.0.0.1:")
            base_url = line.rsplit(" ", 1)[1].strip()
            body = {"audience_type": "all", "message_type": "notify",
                    "message": {"title": "t", "content": "c"}}  # fmt: skip
            replies = [
                httpx.post(f"{base_url}/v3/push/app", json=body, auth=("1500001048", "demo-secret"))
                for _ in range(2)
            ]
            assert [r.json()["ret_code"] for r in replies] == [0, 0]  # --no-rate-limits
            record = httpx.post(
                f"{base_url}/v3/statistics/get_push_record",
                json={"pushId": replies[1].json()["push_id"]},
                auth=("1500001048", "demo-secret"),
            )
            assert record.json()["pushRecordData"][0]["status"] == "PUSH_STARTED"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert db.exists()
