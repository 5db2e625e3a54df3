"""The `policy:` section of pushctl.yaml. Every rule is off until its part is written."""

from __future__ import annotations

import re
from datetime import time, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.domain.policy.channels import ChannelName

Severity = Literal["error", "warning", "off"]
_HOST_PATTERN = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
)
_OFFSET = re.compile(r"^(UTC)?([+-])(\d\d):(\d\d)$")


class _Strict(BaseModel):
    # defer_build: validators are built on first use, as `reconciler.records.Frozen` says.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class LinkPolicy(_Strict):
    #: Hosts a tap or rich media may open: `example.com`, or `*.example.com` for its subdomains.
    allow: tuple[str, ...] = Field(min_length=1)

    @field_validator("allow")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for host in value:
            if not _HOST_PATTERN.match(host):
                raise ValueError(
                    f"{host!r} is not a host name; write `example.com` or `*.example.com` "
                    "(lower case, no scheme, no path)"
                )
        return value


class ContentPolicy(_Strict):
    placeholders: bool = True
    empty_title: bool = Field(default=True, alias="emptyTitle")
    #: Channels whose title/content limits every notification must fit (reference 4.13).
    channels: tuple[ChannelName, ...] = ()


class QuietHours(_Strict):
    #: An IANA zone (`Asia/Shanghai`) or a UTC offset (`+08:00`).
    zone: str
    start: time
    end: time

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)
        return value

    @property
    def tz(self) -> tzinfo:
        return zone_of(self.zone)

    def contains(self, moment: time) -> bool:
        """Inside the window; a window whose end is before its start runs past midnight."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class PolicySeverity(_Strict):
    links: Severity = "error"
    annotations: Severity = "error"
    placeholders: Severity = "error"
    empty_title: Severity = Field(default="error", alias="emptyTitle")
    length: Severity = "warning"
    quiet_hours: Severity = Field(default="error", alias="quietHours")
    broadcasts: Severity = "error"


class NotificationPolicy(_Strict):
    links: LinkPolicy | None = None
    #: Annotation keys every task that sends must carry, e.g. `ticket`.
    require_annotations: tuple[str, ...] = Field(default=(), alias="requireAnnotations")
    content: ContentPolicy | None = None
    quiet_hours: QuietHours | None = Field(default=None, alias="quietHours")
    #: Pushes to all devices of one app allowed within any 24 hours, sent ones included.
    max_broadcasts_per_day: int | None = Field(default=None, alias="maxBroadcastsPerDay", ge=1)
    #: Per rule: `error` stops validate and plan, `warning` is reported, `off` skips the rule.
    severity: PolicySeverity = Field(default_factory=PolicySeverity)


def zone_of(name: str) -> tzinfo:
    offset = _OFFSET.match(name)
    if offset:
        sign = -1 if offset.group(2) == "-" else 1
        delta = timedelta(hours=int(offset.group(3)), minutes=int(offset.group(4)))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; write an IANA name (Asia/Shanghai) or an offset (+08:00)"
        ) from exc
