"""The /v3/push/app body pushctl sends for a declared task, its digest and its audience.

The manifest's `spec.push` is TPNS's own body verbatim except `send_time`, which people write as
ISO 8601 with an offset and TPNS expects as wall time "yyyy-MM-dd HH:mm:ss" in its zone
(reference sections 4.8 and 10 item 10).
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.domain.manifest.models import DeclaredTask

TPNS_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_UTC_OFFSET = "+08:00"


def parse_utc_offset(offset: str) -> timezone:
    """ "+08:00" -> UTC+8; the format pushctl.yaml's `tpnsUtcOffset` allows."""
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def parse_send_time(text: str, *, utc_offset: str = DEFAULT_UTC_OFFSET) -> datetime:
    """An aware datetime; a time written without an offset is read as TPNS wall time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=parse_utc_offset(utc_offset))
    return moment


def send_time_of(
    declared: DeclaredTask, *, utc_offset: str = DEFAULT_UTC_OFFSET
) -> datetime | None:
    """The declared scheduled send time, or None for an immediate push (or no push at all)."""
    push = declared.task.spec.push
    if not push or not push.get("send_time"):
        return None
    return parse_send_time(str(push["send_time"]), utc_offset=utc_offset)


def tpns_body(
    declared: DeclaredTask,
    *,
    utc_offset: str = DEFAULT_UTC_OFFSET,
    collapse_id: int = 0,
    force_collapse: bool = False,
) -> dict[str, Any]:
    """`spec.push` as TPNS expects it; with `collapse_id` it overrides that earlier task."""
    push = declared.task.spec.push
    if push is None:
        raise ValueError(f"{declared.address} declares no `push`; there is no body to send")
    body = copy.deepcopy(push)
    moment = send_time_of(declared, utc_offset=utc_offset)
    if moment is not None:
        wall = moment.astimezone(parse_utc_offset(utc_offset))
        body["send_time"] = wall.strftime(TPNS_TIME_FORMAT)
    if collapse_id:
        body["collapse_id"] = collapse_id
        body["force_collapse"] = force_collapse
    return body


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: Fields pushctl adds to override an earlier task; they are how a push is sent, not its content.
OVERRIDE_FIELDS = ("collapse_id", "force_collapse")


def content_digest(body: dict[str, Any]) -> str:
    """SHA-256 of the body's canonical JSON, without the override fields.

    Equal content gives equal digests whatever the key order, and a push sent as an override
    has the same digest as its manifest's plain body, so apply can record either.
    """
    content = {key: value for key, value in body.items() if key not in OVERRIDE_FIELDS}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def audience_of(body: dict[str, Any]) -> str:
    """Whom the push reaches, in a few words for plans and audit."""
    kind = str(body.get("audience_type", ""))
    if kind == "all":
        return "all devices"
    if kind == "tag":
        return _tag_audience(body)
    if kind in {"account", "token"}:
        return f"1 {kind}"
    if kind in {"account_list", "token_list"}:
        noun = kind.removesuffix("_list")
        count = len(body.get(f"{noun}_list") or [])
        return f"1 {noun} list ({count} {noun}{'' if count == 1 else 's'})"
    if kind in {"package_account_push", "package_token_push"}:
        noun = "account" if kind == "package_account_push" else "token"
        return f"{noun} package (upload {body.get('upload_id', '?')})"
    return kind or "unknown audience"


def _tag_audience(body: dict[str, Any]) -> str:
    rules = body.get("tag_rules")
    if rules:
        text = ""
        for index, rule in enumerate(rules):
            items = " ".join(_tag_item(i, item) for i, item in enumerate(rule.get("tag_items", [])))
            group = f"{'NOT ' if rule.get('is_not') else ''}({items})"
            text += group if index == 0 else f" {rule.get('operator', 'OR')} {group}"
        return f"tag rules: {text}"
    legacy = body.get("tag_list") or {}
    operator = f" {legacy.get('op', 'OR')} "
    return "tags: " + operator.join(str(t) for t in legacy.get("tags", []))


def _tag_item(index: int, item: dict[str, Any]) -> str:
    joined = f" {item.get('tags_operator', 'OR')} ".join(str(t) for t in item.get("tags", []))
    text = f"{'NOT ' if item.get('is_not') else ''}[{joined}]"
    return text if index == 0 else f"{item.get('items_operator', 'OR')} {text}"
