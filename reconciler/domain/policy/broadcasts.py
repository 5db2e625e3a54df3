"""`maxBroadcastsPerDay`: all-device pushes of one app within any 24 hours, counting the ones
already sent (from state) with the ones the plan would send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.domain.body import parse_send_time
from reconciler.domain.plan import Action, Change
from reconciler.records import LiveStatus, TaskBinding

DAY = timedelta(hours=24)
#: Statuses of a push that never went out (or was withdrawn before it did).
_NOT_SENT = frozenset({LiveStatus.CANCELED, LiveStatus.DELETED})


@dataclass(frozen=True)
class Broadcast:
    address: str
    moment: datetime
    planned: bool


def broadcasts(
    sends: Sequence[tuple[Change, dict[str, Any]]],
    bindings: Mapping[str, TaskBinding],
    *,
    now: datetime,
    utc_offset: str,
) -> dict[str, list[Broadcast]]:
    """Per app, the all-device pushes sent (state) and planned (`sends`: each sending change
    and its body), oldest first. A push the plan replaces or cancels no longer counts."""
    withdrawn = {c.address for c, _ in sends if c.action is Action.REPLACE}
    per_app: dict[str, list[Broadcast]] = {}
    for binding in bindings.values():
        if (
            binding.body.get("audience_type") == "all"
            and binding.date is not None
            and binding.last_status not in _NOT_SENT
            and binding.address not in withdrawn
        ):
            per_app.setdefault(binding.app, []).append(
                Broadcast(binding.address, binding.date, planned=False)
            )
    for change, body in sends:
        if body.get("audience_type") != "all":
            continue
        send_time = body.get("send_time")
        moment = (
            parse_send_time(str(send_time).replace(" ", "T", 1), utc_offset=utc_offset)
            if send_time
            else now
        )
        per_app.setdefault(change.app, []).append(
            Broadcast(change.new_address or change.address, moment, planned=True)
        )
    return {app: sorted(found, key=lambda b: b.moment) for app, found in per_app.items()}


def busiest_day(sends: list[Broadcast], planned: Broadcast) -> list[Broadcast]:
    """The most sends in one 24-hour window that holds `planned`."""
    best: list[Broadcast] = []
    for start in sends:
        if not planned.moment - DAY < start.moment <= planned.moment:
            continue
        window = [s for s in sends if start.moment <= s.moment < start.moment + DAY]
        if len(window) > len(best):
            best = window
    return best
