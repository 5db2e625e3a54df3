"""Expansion of `loop_param` (reference section 4.9) into the send times of a loop push."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from reconciler.emulator.refusals import INVALID_PARAMETER, MISSING_PARAMETER, Refusal
from reconciler.emulator.settings import EmulatorSettings

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}$")


def loop_send_times(
    loop: object, *, now: datetime, settings: EmulatorSettings
) -> tuple[datetime, ...]:
    """Every future occurrence between startDate and endDate, oldest first; 1008007 if none."""
    if not isinstance(loop, dict):
        raise Refusal(INVALID_PARAMETER, "loop_param must be an object")
    zone = settings.zone()
    start, end = (_loop_date(loop, key) for key in ("startDate", "endDate"))
    today = now.astimezone(zone).date()
    if start < today or end < start or end > today + timedelta(days=settings.max_send_ahead_days):
        raise Refusal(INVALID_PARAMETER, "loop_param dates must lie within the next 90 days")
    loop_type = loop.get("loopType")
    indexes = loop.get("loopDayIndexs")
    day_times = next(
        (loop[key] for key in settings.loop_day_times_keys if loop.get(key) is not None), None
    )
    if loop_type not in (1, 2, 3) or not isinstance(indexes, list):
        raise Refusal(INVALID_PARAMETER, "loop_param needs loopType 1-3 and loopDayIndexs")
    if not isinstance(day_times, list) or not day_times:
        keys = " or ".join(settings.loop_day_times_keys)
        raise Refusal(MISSING_PARAMETER, f"loop_param.{keys} is required")
    clock_times = [_day_time(value) for value in day_times]
    times = [
        datetime.combine(day, clock_time, tzinfo=zone)
        for day in _loop_days(start, end, int(loop_type), indexes)
        for clock_time in clock_times
    ]
    future = tuple(sorted(t for t in times if t > now))
    if not future:
        raise Refusal(INVALID_PARAMETER, "loop_param yields no send time in the future")
    return future


def _loop_date(loop: dict[str, Any], key: str) -> date:
    value = loop.get(key)
    if not isinstance(value, str) or not _DATE.match(value):
        raise Refusal(INVALID_PARAMETER, f"loop_param.{key} must be YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Refusal(INVALID_PARAMETER, f"loop_param.{key} {value!r} is not a date") from exc


def _day_time(value: object) -> time:
    if not isinstance(value, str) or not _DAY_TIME.match(value):
        raise Refusal(
            INVALID_PARAMETER, f"loop_param.dayTimes entries must be HH:MM:SS, got {value!r}"
        )
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise Refusal(INVALID_PARAMETER, f"loop_param.dayTimes {value!r} is not a time") from exc


def _loop_days(start: date, end: date, loop_type: int, indexes: list[Any]) -> list[date]:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if loop_type == 1:
        return days
    if loop_type == 2:  # weekly, 0 = Sunday
        return [d for d in days if (d.weekday() + 1) % 7 in indexes]
    return [d for d in days if d.day in indexes]
