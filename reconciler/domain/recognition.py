"""Recognising a push by its content: which live task a `/v3/push/app` body created.

TPNS has no idempotency key, so the only way to know that a push already went out is to find a
live task with its content: audience type and targets, message type, title, content and, for a
scheduled push, its send_time. Read-back of an interrupted create (engine/intents.py) and the
duplicate guard (duplicate_guard.py) both match with these rules. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.domain.capabilities import REPORTED_PUSH_TYPE
from reconciler.records import LiveTask

#: `messageType` as TPNS reports it; its docs name a notification both ways (reference 5.1).
_MESSAGE_TYPES = {"notify": "notify", "notification": "notify", "message": "message"}


def tag_values(body: Mapping[str, Any]) -> set[str]:
    """Every tag a push body names, in `tag_rules` or the legacy `tag_list`."""
    values: set[str] = set()
    for rule in body.get("tag_rules") or []:
        for item in rule.get("tag_items") or []:
            values.update(str(tag) for tag in item.get("tags") or [])
    if not values:
        values.update(str(tag) for tag in (body.get("tag_list") or {}).get("tags") or [])
    return values


def targets_match(body: Mapping[str, Any], task: LiveTask) -> bool:
    """The record's audience details equal the body's, as far as TPNS reports them."""
    raw = task.raw
    audience = body.get("audience_type")
    if audience == "tag":
        tag_set = raw.get("tagSet") or {}
        reported = {str(t.get("tagValue")) for t in tag_set.get("tagWithType") or []}
        return reported == tag_values(body)
    if audience in ("token", "token_list", "account", "account_list"):
        key = "token_list" if audience.startswith("token") else "account_list"
        wanted = [str(v) for v in body.get(key) or []]
        if audience in ("token", "account"):
            wanted = wanted[:1]  # TPNS uses only the first
        return {str(v) for v in raw.get("targetList") or []} == set(wanted)
    if audience in ("package_account_push", "package_token_push"):
        return int(raw.get("uploadId") or 0) == int(body.get("upload_id") or 0)
    return True


def same_content(body: Mapping[str, Any], task: LiveTask) -> bool:
    """The live task carries this body's message to this body's audience.

    A scheduled body also needs the task's date to be its send_time, compared as the TPNS wall
    time both sides carry, so a misconfigured `tpnsUtcOffset` cannot hide the task.
    """
    message: Mapping[str, Any] = body.get("message") or {}
    if task.title != message.get("title", "") or task.content != message.get("content", ""):
        return False
    audience = str(body.get("audience_type", ""))
    if task.push_type and task.push_type != REPORTED_PUSH_TYPE.get(audience, audience):
        return False
    if not _same_message_type(body, task) or not targets_match(body, task):
        return False
    send_time = body.get("send_time")
    if isinstance(send_time, str) and send_time:
        reported = task.raw.get("date")
        return reported == send_time if isinstance(reported, str) else True
    return True


def _same_message_type(body: Mapping[str, Any], task: LiveTask) -> bool:
    if not task.message_type:
        return True
    declared = str(body.get("message_type") or "notify")
    return _MESSAGE_TYPES.get(declared, declared) == _MESSAGE_TYPES.get(
        task.message_type, task.message_type
    )


def same_details(body: Mapping[str, Any], task: LiveTask) -> bool:
    """No platform option the record echoes (`pushConfig`) contradicts the body's.

    Only a contradiction counts: TPNS may leave options out of the echo or add defaults, and a
    false "different" would let a push go out twice. Used to tell apart tasks whose title and
    content are the same (an override that fixed a link), never to reject the only match.
    """
    echoed = task.raw.get("pushConfig")
    message = body.get("message") or {}
    if not isinstance(echoed, Mapping) or not isinstance(message, Mapping):
        return True
    return all(
        _no_contradiction(message.get(platform), echoed.get(platform))
        for platform in ("android", "ios")
    )


def _no_contradiction(declared: object, reported: object) -> bool:
    if declared is None or reported is None:
        return True
    if isinstance(declared, Mapping) and isinstance(reported, Mapping):
        return all(
            _no_contradiction(value, reported.get(key))
            for key, value in declared.items()
            if key in reported
        )
    return declared == reported
