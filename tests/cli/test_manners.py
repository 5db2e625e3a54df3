"""CLI manners: --version, global options anywhere, suggestions, completion, light start-up."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli.main import COMMANDS, cli

CONFIG = """\
apps:
  shop-android:
    accessId: "1500001048"
    platform: android
    endpoint: emulator
    secretKeyEnv: SHOP_ANDROID_SECRET_KEY
state: sqlite:.pushctl/state.db
"""
TASK = """\
apiVersion: pushctl/v1
kind: PushTask
metadata: {{name: welcome, app: shop-android}}
spec:
  state: {state}
  push:
    audience_type: all
    message_type: notify
    message: {{title: Hello, content: Welcome}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "team.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "tasks.yaml").write_text(TASK.format(state="active"), encoding="utf-8")
    return tmp_path


def test_version_option_prints_the_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pushctl {__version__}\n"


def test_config_after_the_subcommand_is_used(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    args = ["validate", "-f", str(project / "tasks.yaml")]
    without = CliRunner().invoke(cli, args)
    assert without.exit_code != 0  # no pushctl.yaml anywhere near
    after = CliRunner().invoke(cli, [*args, "--config", str(project / "config" / "team.yaml")])
    assert after.exit_code == 0, after.output
    assert "All manifests are valid (1 task)" in after.output


def test_verbose_after_the_subcommand_raises_the_log_level(project: Path) -> None:
    config = str(project / "config" / "team.yaml")
    args = ["validate", "-f", str(project / "tasks.yaml"), "--config", config, "-vv"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert logging.getLogger("reconciler").level == logging.DEBUG


def test_global_options_reach_subcommands_of_groups() -> None:
    result = CliRunner().invoke(cli, ["state", "list", "--help"])
    assert result.exit_code == 0
    assert "--config" in result.output
    assert "--verbose" in result.output


def test_unknown_command_suggests_the_closest() -> None:
    result = CliRunner().invoke(cli, ["plna"])
    assert result.exit_code == 2
    assert "Did you mean 'plan'?" in result.output


def test_misspelt_state_suggests_the_enum_value(project: Path) -> None:
    (project / "tasks.yaml").write_text(TASK.format(state="canceled"), encoding="utf-8")
    config = str(project / "config" / "team.yaml")
    result = CliRunner().invoke(
        cli, ["validate", "-f", str(project / "tasks.yaml"), "--config", config]
    )
    assert result.exit_code == 1
    assert "tasks.yaml:5:" in result.output
    assert "(did you mean `cancelled`?)" in result.output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_shell_glue(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "_PUSHCTL_COMPLETE" in result.output


def test_completion_answers_with_command_names() -> None:
    env = {"_PUSHCTL_COMPLETE": "bash_complete", "COMP_WORDS": "pushctl pl", "COMP_CWORD": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "from reconciler.cli.main import main; main()"],
        env={**_env(), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "plain,plan" in result.stdout.splitlines()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_table_summary_matches_the_command(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    first_line = (command.help or "").strip().splitlines()[0]
    assert COMMANDS[name].summary == first_line


HEAVY = ("httpx", "psycopg", "starlette", "uvicorn", "rich", "deepdiff", "ssl")
HEAVY_OURS = ("reconciler.engine", "reconciler.state", "reconciler.tpns", "reconciler.emulator")


def imported_after(args: list[str], cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after running `pushctl ARGS`."""
    return modules_after(
        "from reconciler.cli.main import cli\n"
        f"cli.main(args={args!r}, prog_name='pushctl', standalone_mode=False)\n",
        cwd,
    )


def modules_after(code: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (a None entry in sys.modules
    marks a module absent, so it is left out)."""
    listing = "print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))\n"
    return set(fresh_json(code + listing, cwd))


def fresh_json(code: str, cwd: Path) -> Any:
    """The JSON that `code`, run by a fresh interpreter, prints last (json and sys imported)."""
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}"],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["version"]], ids=" ".join)
def test_help_and_version_import_no_command(args: list[str], tmp_path: Path) -> None:
    modules = imported_after(args, tmp_path)
    assert not modules & {*HEAVY, *HEAVY_OURS, "pydantic"}
    # The entry point and its signal handling are loaded; no command module is.
    entry = {"reconciler.cli.main", "reconciler.cli.interrupts"}
    assert not {m for m in modules if m.startswith("reconciler.cli.") and m not in entry}


def test_validate_imports_no_network_state_or_engine(project: Path) -> None:
    config = str(project / "config" / "team.yaml")
    modules = imported_after(["validate", "-f", "tasks.yaml", "--config", config], project)
    assert "reconciler.domain.manifest.validate" in modules  # it did run
    loaded = {m.split(".")[0] for m in modules} | {".".join(m.split(".")[:2]) for m in modules}
    assert not loaded & {*HEAVY, *HEAVY_OURS}


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("_PUSHCTL")}


def test_sqlite_state_does_not_import_psycopg(tmp_path: Path) -> None:
    modules = imported_after(["state", "--state", f"sqlite:{tmp_path / 's.db'}", "list"], tmp_path)
    assert "reconciler.state.sqlite" in modules
    assert "psycopg" not in modules


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_unknown_app_points_at_metadata_app(project: Path, command: str) -> None:
    (project / "tasks.yaml").write_text(
        TASK.format(state="active").replace("app: shop-android", "app: shop-andriod"),
        encoding="utf-8",
    )
    config = str(project / "config" / "team.yaml")
    args = [command, "-f", str(project / "tasks.yaml"), "--config", config]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "tasks.yaml:3:" in result.output  # metadata is a flow mapping on line 3
    assert "error[app.unknown]" in result.output
    assert "tasks.yaml:1:1" not in result.output


def test_the_http_client_loads_without_its_command_line_tool(tmp_path: Path) -> None:
    # httpx imports its own CLI (rich, pygments) unless that import fails; plan and apply
    # never run it, and it is a quarter of httpx's import time.
    code = "import reconciler.cli.main\nimport httpx\nhttpx.Client().close()\n"
    modules = modules_after(code, tmp_path)
    assert "httpx" in modules
    assert not modules & {"rich", "pygments", "httpx._main"}


def test_declaring_the_models_builds_no_validator(tmp_path: Path) -> None:
    # A model builds its validator on first use, so a command pays only for the models it uses
    # (a plan never builds the audit log's; adopted tasks never build `spec.push`'s).
    code = (
        "import reconciler.records, reconciler.domain.plan, reconciler.state.audit\n"
        "import reconciler.domain.manifest.models, reconciler.domain.manifest.push_models\n"
        "from pydantic import BaseModel\n"
        "def every(cls):\n"
        "    for sub in cls.__subclasses__():\n"
        "        yield sub\n"
        "        yield from every(sub)\n"
        "ours = {c for c in every(BaseModel) if c.__module__.startswith('reconciler.')}\n"
        "built = sorted(c.__name__ for c in ours if c.__pydantic_complete__)\n"
        "print(json.dumps([len(ours), built]))\n"
    )
    declared, built = fresh_json(code, tmp_path)
    assert declared > 40
    assert built == []
