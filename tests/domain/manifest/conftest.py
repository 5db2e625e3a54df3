"""Fixtures of the manifest tests: the sample tree and a builder of PushTask documents."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

TaskFactory = Callable[..., dict[str, Any]]
DEFAULT_PUSH: dict[str, Any] = {
    "audience_type": "all",
    "message_type": "notify",
    "message": {"title": "Sale", "content": "Today only"},
}


def push_task(
    name: str = "bf-teaser",
    *,
    app: str = "shop-android",
    state: str = "active",
    push: dict[str, Any] | None = DEFAULT_PUSH,
    **spec: Any,
) -> dict[str, Any]:
    """A PushTask document as a dict; `push=None` leaves `push` out (an adopted task)."""
    if push is not None:
        spec["push"] = copy.deepcopy(push)
    return {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": name, "app": app},
        "spec": {"state": state, **spec},
    }


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def make_task() -> TaskFactory:
    return push_task
