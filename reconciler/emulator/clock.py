"""Clocks of the emulator: a manual one for tests, the system one (plus an offset) for serving.

Every time-driven rule (task status, skew window, rate windows) asks the core's clock, so moving a
`ManualClock` or the `SystemClock` offset moves the whole emulated TPNS.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What the core needs from a clock: read it, move it forward, set it."""

    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> None: ...

    def set(self, when: datetime) -> None: ...


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"clock times must carry a UTC offset, got naive {when.isoformat()}")
    return when.astimezone(UTC)


class ManualClock:
    """A clock that moves only when told to; tests use it so no test waits on wall time."""

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got advance({seconds})")
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = _require_aware(when)


class SystemClock:
    """Wall time plus an offset; the offset lets demos jump ahead (e.g. past a send_time)."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset_seconds, tz=UTC)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got advance({seconds})")
        self.offset_seconds += seconds

    def set(self, when: datetime) -> None:
        self.offset_seconds = _require_aware(when).timestamp() - time.time()
