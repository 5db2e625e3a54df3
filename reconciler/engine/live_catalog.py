"""Listing an app's live tasks across TPNS's whole record horizon, for the duplicate guard.

`get_push_record` by date range keeps a month of tasks (and scheduled ones up to 90 days
ahead); the guard reads all of them, page by page, when a declared task has no push id in
state, so the planner can recognise a push that was already sent.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from reconciler.domain.duplicate_guard import LiveCatalog
from reconciler.errors import PushctlError
from reconciler.records import LiveTask, StateSnapshot

RECORD_PATH = "/v3/statistics/get_push_record"
PAGE_SIZE = 200
#: TPNS keeps push records for about a month.
HORIZON = timedelta(days=30)
#: Scheduled tasks can be dated up to 90 days ahead.
SCHEDULE_AHEAD = timedelta(days=90)


class RangeReader(Protocol):
    calls_made: Counter[str]

    async def list_push_records(
        self, *, start_date: date, end_date: date, page_size: int = PAGE_SIZE
    ) -> list[LiveTask]: ...


@dataclass(frozen=True)
class HorizonWindow:
    """Every date TPNS can still report: a month back, 90 days ahead."""

    since: datetime
    until: datetime
    start_date: date
    end_date: date

    @classmethod
    def at(cls, now: datetime, *, utc_offset: str) -> HorizonWindow:
        zone = datetime.strptime(utc_offset, "%z").tzinfo
        since, until = now - HORIZON, now + SCHEDULE_AHEAD
        return cls(
            since=since,
            until=until,
            start_date=since.astimezone(zone).date(),
            end_date=until.astimezone(zone).date(),
        )


def estimated_catalog_pages(state: StateSnapshot, app: str, window: HorizonWindow) -> int:
    """Pages the listing needs, counting the app's tasks state knows in the window (at least 1).

    Tasks unknown to state may be there too: the listing reads on until TPNS's `count`.
    """
    known = sum(
        1
        for b in state.bindings.values()
        if b.app == app and b.date is not None and window.since <= b.date <= window.until
    )
    return max(1, math.ceil(known / PAGE_SIZE))


async def list_catalog(reader: RangeReader, window: HorizonWindow) -> LiveCatalog:
    """Every live task of the app in the window; a failure makes the catalog `unavailable`."""
    try:
        tasks = await reader.list_push_records(
            start_date=window.start_date, end_date=window.end_date, page_size=PAGE_SIZE
        )
    except PushctlError as exc:
        return LiveCatalog(since=window.since, unavailable=f"TPNS did not answer: {exc.message}")
    return LiveCatalog(tasks=tuple(tasks), since=window.since)
