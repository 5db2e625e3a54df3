"""How a stored task appears in `get_push_record` (reference section 5.1), and the range filters.

`pushType` follows section 10 item 17: single token/account tasks are reported as the list forms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reconciler.emulator.lifecycle import TaskIndexEntry, TaskRow
from reconciler.emulator.push_rules import is_unset
from reconciler.emulator.refusals import (
    DATE_FORMAT_ERROR,
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    Refusal,
)
from reconciler.emulator.settings import EmulatorSettings

REPORTED_PUSH_TYPE = {"token": "token_list", "account": "account_list"}
#: The range query's `pushType` filter (section 5.2) -> audience types it selects. The filter
#: vocabulary differs from the reported values; the reported values are accepted too.
PUSH_TYPE_FILTER: dict[str, frozenset[str]] = {
    "all": frozenset({"all"}),
    "tag": frozenset({"tag"}),
    "token": frozenset({"token", "token_list"}),
    "account": frozenset({"account", "account_list"}),
    "token_list": frozenset({"token", "token_list"}),
    "account_list": frozenset({"account", "account_list"}),
    "package_account_push": frozenset({"package_account_push"}),
    "package_token_push": frozenset({"package_token_push"}),
}
WALL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def push_record(task: TaskRow, *, status: str, settings: EmulatorSettings) -> dict[str, Any]:
    """One `pushRecordData` element."""
    body: dict[str, Any] = json.loads(task.body)
    message: dict[str, Any] = body.get("message") or {}
    targets: list[str] = json.loads(task.targets)
    return {
        "date": task.display_time().astimezone(settings.zone()).strftime(WALL_TIME_FORMAT),
        "pushId": str(task.push_id),
        "title": task.title,
        "content": task.content,
        "status": status,
        "pushType": REPORTED_PUSH_TYPE.get(task.audience_type, task.audience_type),
        "messageType": task.message_type,
        "environment": task.environment or "product",
        "expireTime": task.expire_time,
        "xgMediaResources": message.get("xg_media_resources") or "",
        "multiPkg": body.get("multi_pkg") is True,
        "targetList": targets or None,
        "collapseID": task.collapse_id,
        "tagSet": tag_set(body) if task.audience_type == "tag" else None,
        "uploadId": task.upload_id,
        "pushConfig": {"android": message.get("android"), "ios": message.get("ios")},
        "groupId": body.get("group_id") or "",
        "source": "api",
    }


def tag_set(body: dict[str, Any]) -> dict[str, Any]:
    """The `tagSet` summary: the legacy tag_list verbatim, or the tags named by tag_rules."""
    rules = body.get("tag_rules")
    if isinstance(rules, list) and rules:
        items = [item for rule in rules for item in rule.get("tag_items", [])]
        operator = (items[0].get("tags_operator") or "OR") if items else "OR"
        tags = [
            {"tagTypeName": item.get("tag_type", "xg_user_define"), "tagValue": tag}
            for item in items
            for tag in item.get("tags", [])
        ]
        return {"op": operator, "tagWithType": tags}
    tag_list = body.get("tag_list") or {}
    return {
        "op": tag_list.get("op", "OR"),
        "tagWithType": [
            {"tagTypeName": "xg_user_define", "tagValue": tag} for tag in tag_list.get("tags", [])
        ],
    }


@dataclass(frozen=True)
class RangeQuery:
    """A validated date-range request."""

    start: date
    end: date
    msg_type: str | None
    audiences: frozenset[str] | None
    offset: int
    limit: int

    def selects_entry(self, entry: TaskIndexEntry, settings: EmulatorSettings) -> bool:
        day = datetime.fromtimestamp(entry.shown_at, settings.zone()).date()
        if not self.start <= day <= self.end:
            return False
        if self.msg_type is not None and entry.message_type != self.msg_type:
            return False
        return self.audiences is None or entry.audience_type in self.audiences


def parse_range_query(request: dict[str, Any], settings: EmulatorSettings) -> RangeQuery:
    """Validate the date-range form; 1008002 when a date is missing, 1008016 when malformed."""
    start = _query_date(request, "startDate")
    end = _query_date(request, "endDate")
    if end < start:
        raise Refusal(DATE_FORMAT_ERROR, f"endDate {end} is before startDate {start}")
    msg_type = request.get("msgType")
    if is_unset(msg_type):
        msg_type = None
    elif msg_type not in ("notify", "message"):
        raise Refusal(INVALID_PARAMETER, f"msgType must be notify or message, got {msg_type!r}")
    push_type = request.get("pushType")
    audiences = None
    if not is_unset(push_type):
        if push_type not in PUSH_TYPE_FILTER:
            allowed = sorted(PUSH_TYPE_FILTER)
            raise Refusal(INVALID_PARAMETER, f"pushType must be one of {allowed}")
        audiences = PUSH_TYPE_FILTER[push_type]
    offset = _query_int(request, "offset", default=0)
    limit = _query_int(request, "limit", default=settings.default_page_limit)
    if limit > settings.max_page_limit and settings.over_page_limit == "refuse":
        raise Refusal(
            INVALID_PARAMETER, f"limit {limit} is over the maximum of {settings.max_page_limit}"
        )
    return RangeQuery(
        start=start,
        end=end,
        msg_type=msg_type,
        audiences=audiences,
        offset=offset,
        limit=min(limit, settings.max_page_limit),
    )


def _query_date(request: dict[str, Any], key: str) -> date:
    value = request.get(key)
    if is_unset(value):
        raise Refusal(MISSING_PARAMETER, f"{key} (YYYY-MM-DD) is required without pushId")
    if not isinstance(value, str) or not _DATE.match(value):
        raise Refusal(DATE_FORMAT_ERROR, f"{key} must be YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Refusal(DATE_FORMAT_ERROR, f"{key} {value!r} is not a calendar date") from exc


def _query_int(request: dict[str, Any], key: str, *, default: int) -> int:
    value = request.get(key)
    if is_unset(value):
        return default
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if type(value) is not int or value < 0:
        raise Refusal(INVALID_PARAMETER, f"{key} must be a non-negative integer, got {value!r}")
    return value
