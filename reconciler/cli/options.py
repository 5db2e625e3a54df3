"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

DEFAULT_MANIFESTS = "manifests"


def manifest_option(func: F) -> F:
    return click.option(
        "-f",
        "--file",
        "files",
        multiple=True,
        metavar="PATH",
        help="Manifest file or folder (recursive), or - for stdin; repeatable. "
        f"Default: ./{DEFAULT_MANIFESTS}, else the current folder.",
    )(func)


def manifest_paths(files: tuple[str, ...]) -> list[Path]:
    if files:
        return [Path(f) for f in files]
    default = Path(DEFAULT_MANIFESTS)
    return [default if default.is_dir() else Path(".")]


def accept_duplicate_risk_option(func: F) -> F:
    return click.option(
        "--accept-duplicate-risk",
        is_flag=True,
        help="Plan pushes even when TPNS cannot be checked for an earlier send of the same push "
        "(quota spent, TPNS unreachable). A push sent before then goes out twice.",
    )(func)
