"""Per-app rate-limit ledger: sliding windows of calls per TPNS path.

TPNS allows 200 statistics calls per hour per path and one broadcast push per second per app
(reference section 8). The ledger remembers when each call was sent so the client never sends
faster than that, and so refresh can ask how many calls are left before it spends any.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.errors import QuotaExceeded
from reconciler.tpns.endpoints import PUSH_APP, STATISTICS_PATHS

#: A ledger key for paths without a documented limit: effectively unlimited.
UNLIMITED = 1_000_000_000


@dataclass(frozen=True)
class RateLimit:
    """At most `calls` requests in any sliding window of `window` seconds."""

    calls: int
    window: float

    def __post_init__(self) -> None:
        if self.calls < 1 or self.window <= 0:
            raise ValueError(f"a rate limit needs calls >= 1 and window > 0, got {self}")


def default_limits(
    *, statistics_per_hour: int = 200, broadcast_per_second: int = 1
) -> dict[str, RateLimit]:
    """The documented TPNS limits; `/v3/push/app` here means broadcast pushes only."""
    limits = {path: RateLimit(statistics_per_hour, 3600.0) for path in STATISTICS_PATHS}
    limits[PUSH_APP] = RateLimit(broadcast_per_second, 1.0)
    return limits


class QuotaLedger:
    """Sliding-window call ledger for one app (one AccessID).

    Share one ledger between every client of the same app; the clock must be the one the
    client uses.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        limits: Mapping[str, RateLimit] | None = None,
        app: str = "",
        on_reserve: Callable[[str, float], None] | None = None,
        on_settle: Callable[[str, float, float], None] | None = None,
    ) -> None:
        self._clock = clock
        self._limits = dict(default_limits() if limits is None else limits)
        self._sent: dict[str, deque[float]] = {path: deque() for path in self._limits}
        self.app = app
        #: Told of every call reserved on a limited path (path, send time), after the ledger
        #: counted it: how a caller keeps a durable log that later ledgers `preload`.
        self.on_reserve = on_reserve
        #: Told when `settle` moves a reservation (path, reserved at, answered at): how that
        #: durable log keeps the time a later run must space its next call from.
        self.on_settle = on_settle

    def preload(self, path: str, times: Iterable[float]) -> None:
        """Count calls on `path` sent earlier (e.g. by other runs) at the given unix times.

        Times outside the current window are dropped when the window is next read; a path
        without a limit ignores them. A time after now counts as now, so a clock that ran
        ahead (another machine's, an emulator's since reset) holds the quota for one window at
        most. `on_reserve` is not called: these calls are history.
        """
        sent = self._sent.get(path)
        if sent is None:
            return
        now = self._clock()
        merged = sorted([*sent, *(min(at, now) for at in times)])
        sent.clear()
        sent.extend(merged)

    def limit(self, path: str) -> RateLimit | None:
        return self._limits.get(path)

    def used(self, path: str) -> int:
        """Calls on `path` inside the current window."""
        return len(self._window(path))

    def remaining(self, path: str) -> int:
        """Calls on `path` that may be sent now without passing the limit."""
        limit = self._limits.get(path)
        if limit is None:
            return UNLIMITED
        return max(0, limit.calls - len(self._window(path)))

    def resets_at(self, path: str) -> float:
        """Unix time at which one more call on `path` is available (now, if one is)."""
        now = self._clock()
        limit = self._limits.get(path)
        if limit is None or self.remaining(path) > 0:
            return now
        sent = self._sent[path]
        # The window is full: the next slot opens when the oldest call in it ages out.
        return sent[-limit.calls] + limit.window

    def reserve(self, path: str) -> None:
        """Record one call on `path` sent now; refuse if the window is already full."""
        if self.remaining(path) == 0:
            raise self.exceeded(path)
        if path in self._sent:
            at = self._clock()
            self._sent[path].append(at)
            if self.on_reserve is not None:
                self.on_reserve(path, at)

    def settle(self, path: str) -> None:
        """Move the latest reservation on `path` to now, when the call's answer arrived."""
        window = self._sent.get(path)
        if window:
            reserved = window[-1]
            window[-1] = max(reserved, self._clock())
            if self.on_settle is not None and window[-1] != reserved:
                self.on_settle(path, reserved, window[-1])

    async def wait_and_reserve(self, path: str, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Sleep until a call on `path` is allowed, then reserve it.

        The check and the reservation run without an await between them, so concurrent
        tasks sharing the ledger never reserve the same slot.
        """
        while (delay := self.resets_at(path) - self._clock()) > 0:
            await sleep(delay)
        self.reserve(path)

    def exceeded(self, path: str) -> QuotaExceeded:
        """The error for a spent window on `path`, naming the limit and when it returns."""
        limit = self._limits[path]
        back = self.resets_at(path)
        wait = max(0.0, back - self._clock())
        when = datetime.fromtimestamp(back, UTC).isoformat(timespec="seconds")
        app = f" for app {self.app}" if self.app else ""
        return QuotaExceeded(
            f"TPNS quota spent on {path}{app}: {self.used(path)} of {limit.calls} calls used "
            f"in the last {_window_name(limit.window)}; the next call is allowed at {when} "
            f"(in {_duration(wait)})",
            hint="wait until then, or read fewer tasks (plan --target ADDR)",
        )

    def _window(self, path: str) -> deque[float]:
        limit = self._limits.get(path)
        sent = self._sent.get(path)
        if limit is None or sent is None:
            return deque()
        horizon = self._clock() - limit.window
        while sent and sent[0] <= horizon:
            sent.popleft()
        return sent


def _window_name(seconds: float) -> str:
    names = {1.0: "second", 60.0: "minute", 3600.0: "hour", 86400.0: "day"}
    return names.get(seconds, f"{seconds:g} s")


def _duration(seconds: float) -> str:
    whole = math.ceil(seconds)  # round up: "in 0 s" would invite an immediate retry
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
