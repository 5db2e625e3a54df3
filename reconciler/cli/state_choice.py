"""Which state store a command uses: `--state URL`, else `PUSHCTL_STATE`, else pushctl.yaml.

CI runners are thrown away after each job, so a team shares one store (PostgreSQL) between
them; the URL comes from the job's environment, and `${VAR}` in pushctl.yaml's `state:` is
expanded from it. A password is taken from the environment only (libpq's PGPASSWORD, or a
`${VAR}` in the URL), never written in pushctl.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click

from reconciler.errors import ConfigError, PushctlError

F = TypeVar("F", bound=Callable[..., object])

STATE_ENV = "PUSHCTL_STATE"
STATE_META_KEY = "pushctl.state_url"
SQLITE_SCHEME = "sqlite:"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSWORD_IN_URL = re.compile(r"^postgres(?:ql)?://[^/@:]+:[^/@]+@")
_PASSWORD_PARAM = re.compile(r"[?&]password=", re.IGNORECASE)


@dataclass(frozen=True)
class StateChoice:
    url: str
    #: Where the URL came from, for messages: `--state`, `PUSHCTL_STATE` or the config file.
    origin: str
    #: The folder a relative `sqlite:` path is taken from.
    base_dir: Path

    @property
    def is_local(self) -> bool:
        return self.url.startswith(SQLITE_SCHEME)


def state_option(func: F) -> F:
    """`--state URL` on a command; kept in the context for `choose_state`."""

    def remember(ctx: click.Context, _: click.Parameter, value: str | None) -> str | None:
        if value:
            ctx.meta[STATE_META_KEY] = value
        return value

    return click.option(
        "--state",
        "state_url",
        metavar="URL",
        expose_value=False,
        callback=remember,
        help=f"State store to use (sqlite:PATH or postgresql://...); "
        f"default ${STATE_ENV}, else pushctl.yaml's `state:`.",
    )(func)


def flag_or_env(ctx: click.Context, env: Mapping[str, str]) -> StateChoice | None:
    """The store named by `--state` or PUSHCTL_STATE, if any; relative paths from the cwd."""
    flag = ctx.find_root().meta.get(STATE_META_KEY) or ctx.meta.get(STATE_META_KEY)
    if flag:
        return StateChoice(str(flag), "--state", Path.cwd())
    if env.get(STATE_ENV):
        return StateChoice(env[STATE_ENV], STATE_ENV, Path.cwd())
    return None


def choose_state(
    ctx: click.Context, env: Mapping[str, str], *, configured: str, config_path: Path
) -> StateChoice:
    chosen = flag_or_env(ctx, env)
    if chosen is not None:
        return chosen
    written = _VARIABLE.sub("", configured)  # `${VAR}` is a reference, not a secret
    if _PASSWORD_IN_URL.match(written) or _PASSWORD_PARAM.search(written):
        raise ConfigError(
            f"{config_path}: `state:` holds a database password; a secret never belongs in a file",
            hint="remove it from the URL and export PGPASSWORD (or write ${VAR} and export VAR)",
        )
    return StateChoice(
        expand(configured, env, where=config_path), str(config_path), config_path.parent
    )


def expand(value: str, env: Mapping[str, str], *, where: Path) -> str:
    """`${VAR}` replaced from the environment; an unset variable is an error, not ''."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(
                f"{where}: `state:` uses ${{{name}}}, which is not set",
                hint=f"export {name}=... before running pushctl, or set {STATE_ENV}",
            )
        return env[name]

    return _VARIABLE.sub(lookup, value)


def refuse_local_state_in_ci(choice: StateChoice, env: Mapping[str, str], *, allow: bool) -> None:
    """On a CI runner a local SQLite file is lost with the runner: apply would forget what it
    sent, and the next job could only recognise it within TPNS's one-month record."""
    if allow or not choice.is_local or not env.get("CI"):
        return
    raise PushctlError(
        f"apply in CI with local state ({choice.url}, from {choice.origin}): the runner and "
        "its state file are thrown away after the job, so the next job would not know what "
        "this one sent",
        hint=f"share one store between jobs: export {STATE_ENV}=postgresql://user@host/db "
        "(password in PGPASSWORD), or pass --allow-local-state if this runner keeps its files",
    )
