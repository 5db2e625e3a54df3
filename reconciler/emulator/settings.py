"""Emulator configuration: the values the TPNS documentation leaves open, each with its default.

Nothing here is read from the environment; the CLI (`--setting NAME=VALUE`, parsed by
`settings_from_text`) and tests build `EmulatorSettings` explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta, timezone
from types import MappingProxyType
from typing import Any, Literal, get_args

Platform = Literal["android", "ios"]
#: What a date-range query with `limit` over the maximum gets (section 10 item 16: cap).
OverLimit = Literal["cap", "refuse"]

#: Why a task-management call (or an override) was refused -> the ret_code returned.
#: Section 10 item 4 recommends 1008007 for all of them; keeping them apart lets a test or a
#: user switch one mapping without touching the rules.
DEFAULT_REFUSAL_CODES: Mapping[str, int] = MappingProxyType(
    {
        "stop_platform": 1008007,  # terminate on an iOS app (item 6)
        "stop_audience": 1008007,  # terminate a token/account/package_token task (item 5)
        "stop_state": 1008007,  # terminate before delivery began or after the offline window
        "revoke_disabled": 1008007,  # recall is offline at TPNS (item 4)
        "revoke_audience": 1008007,
        "revoke_state": 1008007,
        "cancel_audience": 1008007,  # cancel only for all/tag/package_account_push
        "cancel_state": 1008007,  # cancel once the task was dispatched (item 7)
        "collapse_unknown": 1008007,  # collapse_id matching no earlier task (item 14)
        "collapse_audience": 1008007,  # override from a non-broadcast audience
        "upload_unknown": 1008007,  # package push naming an upload_id never issued to the app
        "upload_format": 1008011,  # package file of the wrong type, size, name or layout
        "package_entries": 1008007,  # package entries that do not fit the push (token length)
    }
)

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class AppSpec:
    """One emulated TPNS application: an AccessID is bound to a single platform."""

    access_id: str
    secret: str = field(repr=False)
    platform: Platform
    recall_enabled: bool = False
    rate_limits: bool = True

    def __post_init__(self) -> None:
        if not self.access_id or not self.secret:
            raise ValueError("an app needs a non-empty access_id and secret")
        if self.platform not in ("android", "ios"):
            raise ValueError(f"platform must be android or ios, got {self.platform!r}")


@dataclass(frozen=True)
class EmulatorSettings:
    """Every tunable rule of the emulator; docs/emulator.md says where each default comes from."""

    skew_window_seconds: float = 600.0
    utc_offset: str = "+08:00"
    task_delivery_seconds: float = 60.0
    init_seconds: float = 0.0
    record_horizon_days: int = 30
    default_page_limit: int = 20
    max_page_limit: int = 200
    rate_limits: bool = True
    broadcast_push_interval_seconds: float = 1.0
    statistics_calls_per_hour: int = 200
    repeat_window_seconds: float = 3600.0
    strict_push_id_key: bool = False
    unknown_access_id_code: int = 1008035
    refusal_codes: Mapping[str, int] = field(default_factory=lambda: DEFAULT_REFUSAL_CODES)
    first_push_id: int = 100_000_001
    first_collapse_id: int = 1001
    max_send_ahead_days: int = 90
    late_send_tolerance_seconds: float = 600.0
    default_expire_time: int = 86_400
    max_expire_time: int = 259_200
    min_expire_time: int = 800
    max_message_bytes: int = 4096
    max_targets: int = 1000
    max_token_length: int = 36
    min_account_length: int = 2
    max_account_length: int = 100
    #: err_msg of a successful snake_case answer; a recorded TPNS answer says "NO_ERROR".
    success_err_msg: str = "NO_ERROR"
    over_page_limit: OverLimit = "cap"
    #: A package push must name an upload_id issued by /v3/push/package/upload to its app.
    require_issued_upload_id: bool = True
    first_upload_id: int = 1
    max_upload_bytes: int = 100 * 1024 * 1024
    max_upload_name_chars: int = 100
    #: The reference marks message.ios required for iOS apps; the official Go SDK checks it only
    #: when present. TPNS's own answer is unknown, so omitting it is accepted unless this is set.
    require_ios_object: bool = False
    #: Keys loop_param's times-of-day list is read from: the documented one, then the
    #: official SDKs' spelling (gosdk and the PHP SDK send `DayTimes`).
    loop_day_times_keys: tuple[str, ...] = ("dayTimes", "DayTimes")

    def __post_init__(self) -> None:
        self.zone()  # fail at construction, not at the first request
        missing = set(DEFAULT_REFUSAL_CODES) - set(self.refusal_codes)
        if missing:
            raise ValueError(f"refusal_codes lacks {sorted(missing)}")

    def zone(self) -> timezone:
        """The fixed offset TPNS wall times (send_time, date, startDate) are written in."""
        match = _OFFSET.match(self.utc_offset)
        if match is None:
            raise ValueError(f"utc_offset must look like +08:00, got {self.utc_offset!r}")
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(sign * delta)

    def refusal_code(self, reason: str) -> int:
        return self.refusal_codes[reason]


REFUSAL_PREFIX = "refusal_codes."


def settings_from_text(pairs: Iterable[str], base: EmulatorSettings) -> EmulatorSettings:
    """`base` with `NAME=VALUE` overrides; ValueError names the setting and what it takes.

    `refusal_codes.REASON=CODE` changes one refusal code; a tuple setting takes commas.
    """
    changes: dict[str, Any] = {}
    codes = dict(base.refusal_codes)
    kinds = {f.name: f.type for f in fields(EmulatorSettings)}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        name = name.strip()
        if not equals:
            raise ValueError(f"{pair!r} is not NAME=VALUE")
        if name.startswith(REFUSAL_PREFIX):
            reason = name.removeprefix(REFUSAL_PREFIX)
            if reason not in DEFAULT_REFUSAL_CODES:
                raise ValueError(f"no refusal {reason!r}; known: {sorted(DEFAULT_REFUSAL_CODES)}")
            codes[reason] = _typed(name, "int", text)
        elif name in kinds and name != "refusal_codes":
            changes[name] = _typed(name, str(kinds[name]), text)
        else:
            raise ValueError(f"no emulator setting {name!r}; known: {sorted(kinds)}")
    return replace(base, **changes, refusal_codes=MappingProxyType(codes))


def _typed(name: str, kind: str, text: str) -> Any:
    try:
        if kind == "bool":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError("true or false")
            return text.lower() in ("true", "1")
        if kind in ("int", "float"):
            number = _number(text, integer=kind == "int")
            if number is None:
                raise ValueError("an integer" if kind == "int" else "a number")
            return number
        if kind.startswith("tuple"):
            return tuple(item.strip() for item in text.split(",") if item.strip())
        if kind == "OverLimit" and text not in get_args(OverLimit):
            raise ValueError(" or ".join(get_args(OverLimit)))
    except ValueError as exc:
        raise ValueError(f"setting {name} takes {exc or kind}, got {text!r}") from exc
    return text


def _number(text: str, *, integer: bool) -> int | float | None:
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return None
