"""Reading TPNS response bodies: both envelope families and the task record shape.

TPNS answers snake_case (`ret_code`/`err_msg`) on push writers and camelCase
(`retCode`/`errMsg`) on statistics; ids arrive as strings or numbers and times as wall-clock
strings without a zone (reference sections 3, 4.12, 5.1 and 10).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.errors import ConfigError
from reconciler.records import LiveStatus, LiveTask
from reconciler.tpns.errors import MalformedResponse, api_error

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
#: TPNS's wall time, "%Y-%m-%d %H:%M:%S", as a pattern: `strptime` costs ~50 µs a call (it
#: looks up the locale every time), a tenth of the CPU of reading a 10,000-task page.
#: The record fields pushctl reads beyond those `LiveTask` normalises: where a task came from
#: (`source`), its wall time as TPNS wrote it, and what recognising a created task compares
#: (audience, echoed options). Keeping only these keeps a listing of 10,000 tasks small.
KEPT_RAW_FIELDS = ("source", "date", "tagSet", "targetList", "uploadId", "pushConfig")

_WALL_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")


@dataclass(frozen=True)
class PushResult:
    """What `/v3/push/app` returned: the task id (the first one for loop pushes)."""

    push_id: str
    push_ids: tuple[str, ...]
    raw: dict[str, Any] = field(default_factory=dict)


def parse_utc_offset(text: str) -> timezone:
    """Turn "+08:00" into a fixed zone; TPNS wall times carry no zone of their own."""
    match = _OFFSET.match(text)
    if match is None or int(match[2]) > 23 or int(match[3]) > 59:
        raise ConfigError(
            f"utc_offset {text!r} is not of the form +HH:MM",
            hint='TPNS is China-hosted; use "+08:00" unless your account says otherwise',
        )
    delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
    return timezone(-delta if match[1] == "-" else delta)


def decode(content: bytes, *, path: str) -> dict[str, Any]:
    """Parse a 200 body as a JSON object, or raise MalformedResponse."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _malformed(path, "a body that is not JSON") from exc
    if not isinstance(data, dict):
        raise _malformed(path, f"a JSON {type(data).__name__} instead of an object")
    return data


def return_code(envelope: dict[str, Any], *, path: str) -> tuple[int, str]:
    """The (code, message) of either family; `retCode` may arrive as a string."""
    raw = envelope.get("ret_code", envelope.get("retCode"))
    if raw is None:
        raise _malformed(path, "an envelope without ret_code or retCode")
    try:
        code = int(raw)
    except (TypeError, ValueError) as exc:
        raise _malformed(path, f"a non-numeric return code {raw!r}") from exc
    message = envelope.get("err_msg", envelope.get("errMsg", envelope.get("ErrMsg", "")))
    return code, str(message or "")


def check(envelope: dict[str, Any], *, path: str) -> None:
    """Raise the mapped ApiError when the envelope reports a non-zero code."""
    code, message = return_code(envelope, path=path)
    if code != 0:
        raise api_error(code, message, path=path)


def push_result(envelope: dict[str, Any], *, path: str) -> PushResult:
    """Read `push_id` (a string, a number, or an array of them for loop pushes)."""
    value = envelope.get("push_id", envelope.get("pushId"))
    items = value if isinstance(value, list) else [value]
    ids = tuple(_id_text(item, path=path) for item in items)
    if not ids:
        raise _malformed(path, "an empty push_id list")
    return PushResult(push_id=ids[0], push_ids=ids, raw=envelope)


def live_task(record: dict[str, Any], *, zone: timezone, path: str) -> LiveTask:
    """Normalise one `pushRecordData[]` element, keeping its `KEPT_RAW_FIELDS` in `raw`."""
    status_text = record.get("status")
    try:
        status = LiveStatus(str(status_text))
    except ValueError as exc:
        raise _malformed(path, f"an unknown task status {status_text!r}") from exc
    return LiveTask(
        push_id=_id_text(record.get("pushId"), path=path),
        status=status,
        date=wall_time(record.get("date"), zone=zone, path=path),
        push_type=str(record.get("pushType") or ""),
        message_type=str(record.get("messageType") or ""),
        title=str(record.get("title") or ""),
        content=str(record.get("content") or ""),
        environment=str(record.get("environment") or ""),
        expire_time=_int(record.get("expireTime"), name="expireTime", path=path),
        collapse_id=_int(record.get("collapseID"), name="collapseID", path=path),
        raw={name: record[name] for name in KEPT_RAW_FIELDS if name in record},
    )


def records(envelope: dict[str, Any], *, path: str) -> list[dict[str, Any]]:
    """The `pushRecordData` array (null or absent means none)."""
    data = envelope.get("pushRecordData") or []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise _malformed(path, "a pushRecordData that is not an array of objects")
    return data


def wall_time(value: object, *, zone: timezone, path: str) -> datetime:
    """Interpret a TPNS "YYYY-MM-DD hh:mm:ss" string in `zone`."""
    if not isinstance(value, str):
        raise _malformed(path, f"a task date {value!r} that is not a string")
    match = _WALL_TIME.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        year, month, day, hour, minute, second = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise _malformed(
            path, f"a task date {value!r} not of the form YYYY-MM-DD hh:mm:ss"
        ) from exc


def _id_text(value: object, *, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise _malformed(path, f"a push id {value!r} that is neither a string nor a number")
    return str(value)


def _int(value: object, *, name: str, path: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError as exc:
        raise _malformed(path, f"a non-numeric {name} {value!r}") from exc


def _malformed(path: str, what: str) -> MalformedResponse:
    return MalformedResponse(
        f"TPNS {path} answered HTTP 200 with {what}",
        path=path,
        maybe_delivered=True,
    )
