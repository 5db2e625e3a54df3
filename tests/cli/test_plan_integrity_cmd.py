"""`apply PLANFILE` checks the seal before anything else; `show` reports it; keys are checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli
from reconciler.domain.plan import Action, ApiCall, Change, Plan, summarize
from reconciler.domain.plan_seal import seal_plan
from reconciler.errors import ConfigError, UsageError

KEY = "plan-key-0123456789abcdef"


def a_plan() -> Plan:
    stop = Change(
        address="shop-android/old",
        app="shop-android",
        action=Action.STOP,
        push_id="100",
        api_calls=(ApiCall(path="/v3/push/stop_push_msg", body={"pushId": "100"}),),
        reason="declared stopped",
    )
    return Plan(
        tool_version="0.1.0",
        created_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        summary=summarize([stop]),
        changes=(stop,),
    )


def invoke(cwd: Path, *args: str, key: str = "") -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(cli, list(args), env={"PUSHCTL_PLAN_KEY": key})


def write(path: Path, plan: Plan, *, push_id: str | None = None) -> Path:
    document = json.loads(plan.to_json())
    if push_id is not None:
        document["changes"][0]["push_id"] = push_id
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_an_edited_plan_is_refused_before_config_or_state_are_opened(tmp_path: Path) -> None:
    """No pushctl.yaml here: had apply looked for it first, the error would be about config."""
    write(tmp_path / "plan.json", seal_plan(a_plan(), key=None), push_id="999")

    result = invoke(tmp_path, "apply", "plan.json")

    assert result.exit_code == 1
    assert "plan.json: the plan file was changed after it was written" in str(result.exception)
    assert "no TPNS call was made" in str(result.exception)
    assert not (tmp_path / ".pushctl").exists()


def test_a_plan_without_seal_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "plan.json", a_plan())

    result = invoke(tmp_path, "apply", "plan.json")

    assert "the plan file has no seal" in str(result.exception)


def test_show_reports_an_intact_unsigned_plan_and_exits_0(tmp_path: Path) -> None:
    write(tmp_path / "plan.json", seal_plan(a_plan(), key=None))

    result = invoke(tmp_path, "show", "plan.json")

    assert result.exit_code == 0, result.output
    assert "Integrity: intact (digest sha256:" in result.output
    assert "Signature: none (the plan was made without PUSHCTL_PLAN_KEY)." in result.output


def test_show_exits_1_on_an_unsigned_plan_when_a_key_is_set(tmp_path: Path) -> None:
    write(tmp_path / "plan.json", seal_plan(a_plan(), key=None))

    result = invoke(tmp_path, "show", "plan.json", key=KEY)

    assert result.exit_code == 1
    assert "Apply would refuse it: the plan file is not signed" in result.output


def test_show_json_keeps_stdout_a_plan_file(tmp_path: Path) -> None:
    sealed = seal_plan(a_plan(), key=KEY.encode())
    write(tmp_path / "plan.json", sealed)

    result = invoke(tmp_path, "show", "plan.json", "--format", "json")

    assert Plan.from_json(result.stdout) == sealed
    assert "Signature: key " in result.stderr
    assert "not checked (PUSHCTL_PLAN_KEY is not set)" in result.stderr


def test_apply_planfile_from_stdin_manifests_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pushctl.yaml").write_text("apps: {}\nstate: sqlite:state.db\n")
    write(tmp_path / "plan.json", seal_plan(a_plan(), key=None))

    result = invoke(tmp_path, "apply", "plan.json", "-f", "-")

    assert isinstance(result.exception, UsageError)
    assert "stdin cannot be compared" in str(result.exception)


def test_a_short_plan_key_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "plan.json", seal_plan(a_plan(), key=None))

    result = invoke(tmp_path, "apply", "plan.json", key="short")

    assert isinstance(result.exception, ConfigError)
