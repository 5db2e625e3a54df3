"""Validation of a `/v3/push/app` body (reference section 4) into a `PushOrder` the store can keep.

Codes follow section 10 item 13: 1008002 for a missing required field, 1008007 for an invalid
value, 10010012 for a send_time more than the tolerance in the past.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.emulator.loop_schedule import loop_send_times
from reconciler.emulator.refusals import (
    ILLEGAL_PUSH_TIME,
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    TOKEN_NOT_VALID,
    Refusal,
)
from reconciler.emulator.settings import EmulatorSettings, Platform
from reconciler.emulator.tag_rules import check_tags

AUDIENCES = (
    "all",
    "tag",
    "token",
    "token_list",
    "account",
    "account_list",
    "package_account_push",
    "package_token_push",
)
#: Audiences that may be scheduled, looped, rate limited at 1/s and overridden (section 9).
BROADCAST_AUDIENCES = frozenset({"all", "tag", "package_account_push"})
CHANNELS = frozenset({"xg", "hw", "xm", "mz", "vivo", "oppo", "apns", "honor", "fcm"})
SEND_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_GROUP_ID_CHARS = 25
_SEND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True)
class PushOrder:
    """A validated push request: what the store needs to create one task per send time."""

    audience_type: str
    message_type: str
    environment: str
    title: str
    content: str
    expire_time: int
    send_times: tuple[datetime | None, ...]  # None = dispatch now; several = loop push
    collapse_id: int
    force_collapse: bool
    targets: tuple[str, ...] = ()
    invalid_targets: tuple[str, ...] = ()
    upload_id: int = 0
    is_loop: bool = False


def is_unset(value: object) -> bool:
    """The official SDK sends zero values for unset optional fields (section 10 item 20)."""
    return value is None or value == "" or value is False or (type(value) is int and value == 0)


def _int_field(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if is_unset(value):
        return 0
    if type(value) is not int:
        raise Refusal(INVALID_PARAMETER, f"{key} must be an integer, got {value!r}")
    return value


def validate_push(
    body: dict[str, Any],
    *,
    platform: Platform,
    now: datetime,
    settings: EmulatorSettings,
    check_times: bool = True,
) -> PushOrder:
    """Check `body` against the reference and return the order; raise `Refusal` otherwise."""
    audience = _audience(body)
    message_type = _message_type(body)
    message = _message(body, settings)
    environment = _environment(body, platform)
    title, content = _title_content(message, platform=platform, message_type=message_type)
    _check_ios_message(message, platform=platform, message_type=message_type, settings=settings)
    targets, invalid = _targets(body, audience, settings)
    upload_id = _upload_id(body, audience)
    _check_broadcast_only(body, audience)
    _check_optional_fields(body)
    send_times, is_loop = _send_times(body, now=now, settings=settings, check_times=check_times)
    return PushOrder(
        audience_type=audience,
        message_type=message_type,
        environment=environment,
        title=title,
        content=content,
        expire_time=_expire_time(body, settings),
        send_times=send_times,
        collapse_id=_int_field(body, "collapse_id"),
        force_collapse=body.get("force_collapse") is True,
        targets=targets,
        invalid_targets=invalid,
        upload_id=upload_id,
        is_loop=is_loop,
    )


def _audience(body: dict[str, Any]) -> str:
    audience = body.get("audience_type")
    if is_unset(audience):
        raise Refusal(MISSING_PARAMETER, "audience_type is required")
    if audience not in AUDIENCES:
        raise Refusal(INVALID_PARAMETER, f"audience_type {audience!r} is not one of {AUDIENCES}")
    return str(audience)


def _message_type(body: dict[str, Any]) -> str:
    message_type = body.get("message_type")
    if is_unset(message_type):
        raise Refusal(MISSING_PARAMETER, "message_type is required")
    if message_type not in ("notify", "message"):
        raise Refusal(
            INVALID_PARAMETER, f"message_type must be notify or message, got {message_type!r}"
        )
    return str(message_type)


def _message(body: dict[str, Any], settings: EmulatorSettings) -> dict[str, Any]:
    message = body.get("message")
    if message is None:
        raise Refusal(MISSING_PARAMETER, "message is required")
    if not isinstance(message, dict):
        raise Refusal(INVALID_PARAMETER, "message must be an object")
    size = len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())
    if size > settings.max_message_bytes:
        raise Refusal(INVALID_PARAMETER, f"message is {size} bytes; the limit is 4 KB")
    return message


def _environment(body: dict[str, Any], platform: Platform) -> str:
    environment = body.get("environment")
    if is_unset(environment):
        if platform == "ios":
            raise Refusal(
                MISSING_PARAMETER, "environment (product or dev) is required for iOS apps"
            )
        return ""
    if environment not in ("product", "dev"):
        raise Refusal(INVALID_PARAMETER, f"environment must be product or dev, got {environment!r}")
    return str(environment)


def _title_content(
    message: dict[str, Any], *, platform: Platform, message_type: str
) -> tuple[str, str]:
    # An iOS silent message carries its data in ios.custom_content; title/content are optional.
    required = not (platform == "ios" and message_type == "message")
    values: list[str] = []
    for key in ("title", "content"):
        value = message.get(key)
        if is_unset(value):
            if required:
                raise Refusal(MISSING_PARAMETER, f"message.{key} is required")
            value = ""
        if not isinstance(value, str):
            raise Refusal(INVALID_PARAMETER, f"message.{key} must be a string")
        values.append(value)
    return values[0], values[1]


def _check_ios_message(
    message: dict[str, Any], *, platform: Platform, message_type: str, settings: EmulatorSettings
) -> None:
    ios = message.get("ios")
    if ios is None:
        if platform == "ios" and settings.require_ios_object:
            raise Refusal(MISSING_PARAMETER, "message.ios (with aps) is required for iOS apps")
        return
    if not isinstance(ios, dict):
        raise Refusal(INVALID_PARAMETER, "message.ios must be an object")
    aps = ios.get("aps")
    if aps is None:
        raise Refusal(MISSING_PARAMETER, "message.ios.aps is required when message.ios is given")
    if not isinstance(aps, dict):
        raise Refusal(INVALID_PARAMETER, "message.ios.aps must be an object")
    silent = aps.get("content-available") == 1
    if message_type == "notify" and silent:
        raise Refusal(INVALID_PARAMETER, "content-available: 1 cannot be used with notify")
    if message_type == "message":
        if not silent:
            raise Refusal(INVALID_PARAMETER, "an iOS silent message needs content-available: 1")
        # The SDKs always send "badge_type": 0, and PHP "alert": null, "sound": "": unset.
        loud = sorted(key for key in ("alert", "sound", "badge_type") if not _is_zero(aps.get(key)))
        if loud:
            raise Refusal(INVALID_PARAMETER, f"an iOS silent message cannot carry {loud}")


def _is_zero(value: object) -> bool:
    """Unset as the SDKs serialise it: null, "", 0, false, or an empty object."""
    return is_unset(value) or value == {}


def _targets(
    body: dict[str, Any], audience: str, settings: EmulatorSettings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if audience == "tag":
        check_tags(body)
        return (), ()
    key = {"token": "token_list", "token_list": "token_list"}.get(audience)
    key = key or {"account": "account_list", "account_list": "account_list"}.get(audience)
    if key is None:
        return (), ()
    values = body.get(key)
    if is_unset(values) or values == []:
        raise Refusal(MISSING_PARAMETER, f"{key} is required for audience_type {audience}")
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise Refusal(INVALID_PARAMETER, f"{key} must be a list of non-empty strings")
    if len(values) > settings.max_targets:
        raise Refusal(INVALID_PARAMETER, f"{key} has {len(values)} entries; the limit is 1000")
    if audience in ("token", "account"):
        values = values[:1]  # only the first entry is used (section 4.2)
    if key == "token_list":
        return _split_tokens(body, values, settings)
    _check_accounts(values, settings)
    return tuple(values), ()


def _check_accounts(accounts: list[str], settings: EmulatorSettings) -> None:
    low, high = settings.min_account_length, settings.max_account_length
    wrong = [account for account in accounts if not low <= len(account) <= high]
    if wrong:
        raise Refusal(
            INVALID_PARAMETER, f"accounts must have {low}-{high} characters, not {wrong[:3]}"
        )


def _split_tokens(
    body: dict[str, Any], tokens: list[str], settings: EmulatorSettings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    invalid = tuple(t for t in tokens if len(t) > settings.max_token_length)
    valid = tuple(t for t in tokens if len(t) <= settings.max_token_length)
    if not invalid:
        return valid, ()
    if _int_field(body, "ignore_invalid_token") != 1:
        raise Refusal(INVALID_PARAMETER, f"tokens longer than 36 characters: {list(invalid)}")
    if not valid:
        raise Refusal(TOKEN_NOT_VALID, "no valid token left after ignore_invalid_token")
    return valid, invalid


def _upload_id(body: dict[str, Any], audience: str) -> int:
    upload_id = _int_field(body, "upload_id")
    if audience.startswith("package_"):
        if upload_id == 0:
            raise Refusal(MISSING_PARAMETER, f"upload_id is required for {audience}")
        if upload_id < 0:
            raise Refusal(INVALID_PARAMETER, "upload_id must be positive")
    return upload_id


def _check_broadcast_only(body: dict[str, Any], audience: str) -> None:
    if audience in BROADCAST_AUDIENCES:
        return
    for key in ("send_time", "loop_param", "push_speed"):
        if not is_unset(body.get(key)):
            raise Refusal(
                INVALID_PARAMETER,
                f"{key} is only allowed for all, tag and package_account_push, not {audience}",
            )


def _check_optional_fields(body: dict[str, Any]) -> None:
    """Optional fields are unset when zero-valued; when set they must hold a documented value."""
    speed = _int_field(body, "push_speed")
    if speed and not 1000 <= speed <= 50_000:
        raise Refusal(INVALID_PARAMETER, "push_speed must be between 1000 and 50000")
    for key in ("account_push_type", "tpns_online_push_type", "ignore_invalid_token"):
        if _int_field(body, key) not in (0, 1):
            raise Refusal(INVALID_PARAMETER, f"{key} must be 0 or 1")
    if _int_field(body, "account_type") < 0:
        raise Refusal(INVALID_PARAMETER, "account_type must not be negative")
    if _int_field(body, "collapse_id") < 0:
        raise Refusal(INVALID_PARAMETER, "collapse_id must be positive")
    _check_shaped_options(body)


def _check_shaped_options(body: dict[str, Any]) -> None:
    rules = body.get("channel_rules")
    if not is_unset(rules):
        ok = isinstance(rules, list) and all(
            isinstance(r, dict) and r.get("channel") in CHANNELS for r in rules
        )
        if not ok:
            raise Refusal(
                INVALID_PARAMETER, f"channel_rules entries need a channel in {sorted(CHANNELS)}"
            )
    group_id = body.get("group_id")
    if not is_unset(group_id) and (
        not isinstance(group_id, str) or len(group_id) > MAX_GROUP_ID_CHARS or " " in group_id
    ):
        raise Refusal(INVALID_PARAMETER, "group_id must be at most 25 characters, no spaces")
    for key in ("multi_pkg", "force_collapse"):
        if key in body and not isinstance(body[key], bool):
            raise Refusal(INVALID_PARAMETER, f"{key} must be a boolean")


def _expire_time(body: dict[str, Any], settings: EmulatorSettings) -> int:
    # expire_time 0 means "real-time, no offline storage", so unlike other fields 0 is kept.
    value = body.get("expire_time")
    if value is None:
        return settings.default_expire_time
    if type(value) is not int or value < 0:
        raise Refusal(
            INVALID_PARAMETER, f"expire_time must be a non-negative integer, got {value!r}"
        )
    if value > settings.max_expire_time:
        raise Refusal(INVALID_PARAMETER, f"expire_time {value} exceeds 259200 seconds (72 h)")
    if 0 < value < settings.min_expire_time:
        return settings.min_expire_time
    return value


def parse_send_time(text: object, settings: EmulatorSettings) -> datetime:
    """`yyyy-MM-dd HH:mm:ss` in the configured zone -> aware datetime; 1008007 otherwise."""
    if not isinstance(text, str) or not _SEND_TIME.match(text):
        raise Refusal(INVALID_PARAMETER, f"send_time must be 'yyyy-MM-dd HH:mm:ss', got {text!r}")
    try:
        naive = datetime.strptime(text, SEND_TIME_FORMAT)
    except ValueError as exc:
        raise Refusal(INVALID_PARAMETER, f"send_time {text!r} is not a real time") from exc
    return naive.replace(tzinfo=settings.zone())


def _send_times(
    body: dict[str, Any], *, now: datetime, settings: EmulatorSettings, check_times: bool
) -> tuple[tuple[datetime | None, ...], bool]:
    loop = body.get("loop_param")
    if not is_unset(loop):
        return loop_send_times(loop, now=now, settings=settings), True
    raw = body.get("send_time")
    if is_unset(raw):
        return (None,), False
    when = parse_send_time(raw, settings)
    if not check_times:
        return (when,), False
    if when > now + timedelta(days=settings.max_send_ahead_days):
        raise Refusal(INVALID_PARAMETER, f"send_time {raw} is more than 90 days ahead")
    if when < now - timedelta(seconds=settings.late_send_tolerance_seconds):
        raise Refusal(ILLEGAL_PUSH_TIME, f"send_time {raw} is more than 10 minutes in the past")
    return ((when if when > now else None),), False
