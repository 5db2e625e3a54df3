"""Injected faults: what a test can make the emulated TPNS do wrong, and when.

A fault matches a path (exact, or "*" for every API path), fires `before` the change is committed
(the request is not processed) or `after` (state changed, the client sees the failure), with a
probability drawn from a seeded generator and for at most `count` requests.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["latency", "http_5xx", "ret_code", "drop"]
FaultPhase = Literal["before", "after"]
KINDS: tuple[FaultKind, ...] = ("latency", "http_5xx", "ret_code", "drop")
PHASES: tuple[FaultPhase, ...] = ("before", "after")


@dataclass(frozen=True)
class Fault:
    """One configured fault; `count` None means it never wears off."""

    path: str
    kind: FaultKind
    when: FaultPhase = "before"
    ret_code: int = 1008004
    latency_ms: float = 0.0
    status: int = 503
    probability: float = 1.0
    count: int | None = None

    def matches(self, path: str) -> bool:
        return self.path in ("*", path)

    def to_spec(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FaultPlan:
    """The faults that fire for one request, at most one per phase."""

    before: Fault | None = None
    after: Fault | None = None


def parse_fault(spec: object) -> Fault:
    """Build a `Fault` from the admin JSON; ValueError names the offending field."""
    if not isinstance(spec, dict):
        raise ValueError("each fault must be an object")
    unknown = set(spec) - set(Fault.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fault fields {sorted(unknown)}")
    path, kind, when = spec.get("path"), spec.get("kind"), spec.get("when", "before")
    if not isinstance(path, str) or not (path == "*" or path.startswith("/")):
        raise ValueError('fault path must be "*" or an API path such as /v3/push/app')
    if kind not in KINDS:
        raise ValueError(f"fault kind must be one of {KINDS}, got {kind!r}")
    if when not in PHASES:
        raise ValueError(f"fault when must be before or after, got {when!r}")
    fault = Fault(
        path=path,
        kind=kind,
        when=when,
        ret_code=int(spec.get("ret_code", 1008004)),
        latency_ms=float(spec.get("latency_ms", 0.0)),
        status=int(spec.get("status", 503)),
        probability=float(spec.get("probability", 1.0)),
        count=None if spec.get("count") is None else int(spec["count"]),
    )
    _check_ranges(fault)
    return fault


def _check_ranges(fault: Fault) -> None:
    if not 0.0 <= fault.probability <= 1.0:
        raise ValueError("fault probability must be between 0 and 1")
    if fault.count is not None and fault.count < 1:
        raise ValueError("fault count must be at least 1 (omit it for a permanent fault)")
    if not 500 <= fault.status <= 599:
        raise ValueError("http_5xx status must be between 500 and 599")
    if fault.latency_ms < 0:
        raise ValueError("latency_ms must not be negative")


def draw(seed: int, draw_number: int) -> float:
    """The n-th uniform draw of a seeded sequence; reproducible across processes sharing a file."""
    return random.Random(f"{seed}:{draw_number}").random()
