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
from reconciler.emulator import AppSpec, EmulatorSettings
from reconciler.emulator.settings import settings_from_text


def test_an_address_that_cannot_be_bound_is_a_usage_error() -> None:
    result = CliRunner().invoke(emulator, ["serve", "--host", "192.0.2.1", "--port", "0"])
    assert result.exit_code == 2
    assert "cannot listen on 192.0.2.1:0" in result.output


def test_serve_beyond_loopback_keeps_admin_behind_the_token(tmp_path: Path) -> None:
    pushctl = Path(sys.executable).parent / "pushctl"
    args = [str(pushctl), "emulator", "serve", "--host", "0.0.0.0", "--port", "0"]
    args += ["--app", "1500001048:demo-secret:android", "--setting", "over_page_limit=refuse"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PUSHCTL_EMULATOR_ADMIN_TOKEN": "ci-token"}
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            warning = proc.stderr.readline()
            assert "beyond loopback; /_emulator/ needs the admin token" in warning
            line = proc.stdout.readline()
            assert line.startswith("TPNS emulator listening on http://0.0.0.0:")
            base_url = "http://127.0.0.1:" + line.rsplit(":", 1)[1].strip()
            assert httpx.get(f"{base_url}/_emulator/ledger").status_code == 401
            token = {"Authorization": "Bearer ci-token"}
            assert httpx.get(f"{base_url}/_emulator/ledger", headers=token).status_code == 200
            page = {"startDate": "2026-11-20", "endDate": "2026-11-20", "limit": 201}
            reply = httpx.post(
                f"{base_url}/v3/statistics/get_push_record",
                json=page,
                auth=("1500001048", "demo-secret"),
            )
            assert reply.json()["retCode"] == 1008007  # the --setting took effect
        finally:
            proc.terminate()
            proc.wait(timeout=10)


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
    options = ("--host", "--port", "--db", "--app", "--no-rate-limits", "--recall", "--setting")
    options += ("--admin-token",)
    for option in options:
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


def test_settings_change_rules_tpns_leaves_open() -> None:
    pairs = [
        "over_page_limit=refuse",
        "require_ios_object=true",
        "max_page_limit=50",
        "skew_window_seconds=30",
        "loop_day_times_keys=DayTimes, dayTimes",
        "refusal_codes.upload_unknown=1008015",
    ]
    chosen = settings_from_text(pairs, EmulatorSettings())
    assert chosen.over_page_limit == "refuse"
    assert chosen.require_ios_object is True
    assert (chosen.max_page_limit, chosen.skew_window_seconds) == (50, 30.0)
    assert chosen.loop_day_times_keys == ("DayTimes", "dayTimes")
    assert chosen.refusal_code("upload_unknown") == 1008015
    assert chosen.refusal_code("upload_format") == 1008011


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("nope=1", "no emulator setting 'nope'"),
        ("over_page_limit=sometimes", "over_page_limit takes cap or refuse"),
        ("rate_limits=maybe", "rate_limits takes true or false"),
        ("max_page_limit=many", "max_page_limit takes an integer"),
        ("refusal_codes.whim=1", "no refusal 'whim'"),
        ("max_page_limit", "is not NAME=VALUE"),
    ],
)
def test_a_bad_setting_is_a_usage_error(pair: str, message: str) -> None:
    result = CliRunner().invoke(emulator, ["serve", "--port", "0", "--setting", pair])
    assert result.exit_code == 2
    assert message in result.output
