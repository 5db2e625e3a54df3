"""Fixtures for the TPNS client tests: a fake clock whose sleep advances it, a canary secret."""

from __future__ import annotations

import pytest

from reconciler.tpns.auth import Secret

from .fakes import CANARY, FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def canary() -> Secret:
    return Secret(CANARY)
