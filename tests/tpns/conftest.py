"""Fakes for the TPNS client tests: a clock whose sleep advances it, and a canary secret."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from reconciler.tpns.auth import Secret

#: A secret that must never show up in any message, repr or log line.
CANARY = "canary-5ecret-0f-the-tpns-app-4242"


@dataclass
class FakeTime:
    """Unix time that moves only when the code under test sleeps."""

    now: float = 1_790_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def canary() -> Secret:
    return Secret(CANARY)
