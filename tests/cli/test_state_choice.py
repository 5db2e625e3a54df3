"""Which state store a command uses, and what pushctl.yaml may say about it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from reconciler.cli.state_choice import (
    STATE_ENV,
    STATE_META_KEY,
    choose_state,
    refuse_local_state_in_ci,
)
from reconciler.errors import ConfigError, PushctlError

CONFIG = Path("/repo/pushctl.yaml")


def context(flag: str | None = None) -> click.Context:
    ctx = click.Context(click.Command("plan"))
    if flag:
        ctx.meta[STATE_META_KEY] = flag
    return ctx


@pytest.mark.parametrize(
    ("flag", "env", "url", "origin"),
    [
        ("sqlite:flag.db", {STATE_ENV: "sqlite:env.db"}, "sqlite:flag.db", "--state"),
        (None, {STATE_ENV: "postgresql://ci@db/p"}, "postgresql://ci@db/p", STATE_ENV),
        (None, {}, "sqlite:.pushctl/state.db", str(CONFIG)),
    ],
)
def test_the_flag_wins_over_the_environment_over_the_file(
    flag: str | None, env: dict[str, str], url: str, origin: str
) -> None:
    chosen = choose_state(
        context(flag), env, configured="sqlite:.pushctl/state.db", config_path=CONFIG
    )
    assert (chosen.url, chosen.origin) == (url, origin)


def test_variables_in_the_file_are_expanded() -> None:
    chosen = choose_state(
        context(),
        {"DB_USER": "ci", "DB_PASSWORD": "s3cret"},
        configured="postgresql://${DB_USER}:${DB_PASSWORD}@db/pushctl",
        config_path=CONFIG,
    )
    assert chosen.url == "postgresql://ci:s3cret@db/pushctl"


def test_an_unset_variable_is_named() -> None:
    with pytest.raises(ConfigError, match=r"\$\{DB_HOST\}, which is not set"):
        choose_state(context(), {}, configured="postgresql://ci@${DB_HOST}/p", config_path=CONFIG)


@pytest.mark.parametrize(
    "url", ["postgresql://ci:hunter2@db/pushctl", "postgresql://ci@db/pushctl?password=hunter2"]
)
def test_a_password_written_in_the_file_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        choose_state(context(), {}, configured=url, config_path=CONFIG)
    assert "PGPASSWORD" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_local_state_in_ci_is_refused_unless_allowed() -> None:
    chosen = choose_state(context(), {}, configured="sqlite:.pushctl/state.db", config_path=CONFIG)
    with pytest.raises(PushctlError, match="PUSHCTL_STATE=postgresql://"):
        refuse_local_state_in_ci(chosen, {"CI": "true"}, allow=False)
    refuse_local_state_in_ci(chosen, {"CI": "true"}, allow=True)
    refuse_local_state_in_ci(chosen, {}, allow=False)
    shared = choose_state(
        context(), {STATE_ENV: "postgresql://ci@db/p"}, configured="", config_path=CONFIG
    )
    refuse_local_state_in_ci(shared, {"CI": "true"}, allow=False)
