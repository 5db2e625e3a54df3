"""Capped exponential backoff with full jitter, driven by an injected random source.

Full jitter (a uniform draw in [0, min(cap, base * 2**n)]) spreads retries of parallel CI jobs
apart instead of letting them hit TPNS in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all (1 = never retry); delays grow from `base` up to `cap` seconds."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base < 0 or self.cap < 0:
            raise ValueError(f"RetryPolicy needs attempts >= 1 and non-negative delays: {self}")

    def ceiling(self, retry: int) -> float:
        """The largest delay before retry number `retry` (0 for the first retry)."""
        return min(self.cap, self.base * float(2 ** min(retry, 62)))

    def delay(self, retry: int, rng: random.Random) -> float:
        """A full-jitter delay before retry number `retry`."""
        return rng.uniform(0.0, self.ceiling(retry))
