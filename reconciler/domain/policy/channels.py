"""What each delivery channel shows of a notification (reference section 4.13).

Android vendors refuse a title or content over their limit, or an empty one; TPNS then retries
the push on its own channel. The TPNS channel and iOS never refuse: they cut the text short.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ELLIPSIS = "…"


class ChannelName(StrEnum):
    TPNS = "tpns"
    XIAOMI = "xiaomi"
    HUAWEI = "huawei"
    MEIZU = "meizu"
    OPPO = "oppo"
    VIVO = "vivo"
    IOS = "ios"
    IOS_BANNER = "ios-banner"


@dataclass(frozen=True)
class ChannelLimits:
    """`None` = no limit. `refuses` = over the limit the vendor fails the push, not cuts it."""

    name: ChannelName
    label: str
    platform: str
    title: int | None
    content: int | None
    refuses: bool


CHANNELS: tuple[ChannelLimits, ...] = (
    ChannelLimits(ChannelName.TPNS, "Android (TPNS)", "android", 20, None, refuses=False),
    ChannelLimits(ChannelName.XIAOMI, "Mi", "android", 50, 128, refuses=True),
    ChannelLimits(ChannelName.HUAWEI, "Huawei", "android", 40, 80, refuses=True),
    ChannelLimits(ChannelName.MEIZU, "Meizu", "android", 32, 100, refuses=True),
    ChannelLimits(ChannelName.OPPO, "OPPO", "android", 32, 200, refuses=True),
    ChannelLimits(ChannelName.VIVO, "vivo", "android", 40, 128, refuses=True),
    ChannelLimits(ChannelName.IOS, "iOS notification centre", "ios", 40, 110, refuses=False),
    ChannelLimits(ChannelName.IOS_BANNER, "iOS banner", "ios", 40, 62, refuses=False),
)
BY_NAME: dict[ChannelName, ChannelLimits] = {channel.name: channel for channel in CHANNELS}


def channels_for(platform: str) -> tuple[ChannelLimits, ...]:
    return tuple(channel for channel in CHANNELS if channel.platform == platform)


def cut(text: str, limit: int | None) -> str:
    """`text` as a phone shows it: at most `limit` characters, the last one an ellipsis."""
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def refusal(channel: ChannelLimits, *, title: str, content: str) -> str | None:
    """Why this vendor channel fails the push (it then falls back to TPNS), or None."""
    if not channel.refuses:
        return None
    for field, text, limit in (
        ("title", title, channel.title),
        ("content", content, channel.content),
    ):
        if not text.strip():
            return f"empty {field}"
        if limit is not None and len(text) > limit:
            return f"{field} {len(text)} > {limit} characters"
    return None
