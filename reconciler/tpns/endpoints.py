"""TPNS access points, request paths, and the rule that plain http is for loopback only.

An AccessID works only on the access point where its app was created (reference section 1.1);
data is fully isolated between access points.
"""

from __future__ import annotations

import difflib
import ipaddress
from urllib.parse import urlsplit

from reconciler.errors import ConfigError

#: Region id → base URL (reference section 1.1), without the trailing slash.
REGIONS: dict[str, str] = {
    "ap-guangzhou": "https://api.tpns.tencent.com",
    "ap-shanghai": "https://api.tpns.sh.tencent.com",
    "ap-hongkong": "https://api.tpns.hk.tencent.com",
    "ap-singapore": "https://api.tpns.sgp.tencent.com",
}

PUSH_APP = "/v3/push/app"
STOP_PUSH_MSG = "/v3/push/stop_push_msg"
REVOKE_PUSH_MSG = "/v3/push/revoke_push_msg"
CANCEL_TIMING_TASK = "/v3/push/cancel_timing_task"
GET_PUSH_RECORD = "/v3/statistics/get_push_record"

#: Paths limited to 200 calls per hour per app (reference section 8).
STATISTICS_PATHS: tuple[str, ...] = (
    GET_PUSH_RECORD,
    "/v3/statistics/get_push_task_stat_channel",
    "/v3/statistics/get_push_group_stat_channel",
    "/v3/statistics/get_push_channel_stat_overview",
    "/v3/statistics/get_device_stat_overview",
    "/v3/toolbox/getPushListByToken",
)

#: Audience types whose pushes are limited to one per second per app.
BROADCAST_AUDIENCES = frozenset({"all", "tag", "package_account_push"})


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (also as an IPv4-mapped address)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_base_url(url: str) -> str:
    """Validate an endpoint URL and return it without a trailing slash.

    https is always allowed; plain http only when the host is loopback (the emulator), so a
    SecretKey or Basic header never crosses a network in clear text.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"endpoint {_safe(url)!r} is not an http(s) URL",
            hint="write it as https://host[:port], e.g. https://api.tpns.tencent.com",
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"endpoint for host {parts.hostname!r} carries credentials in the URL",
            hint="remove user:password@ from the endpoint; the SecretKey comes from secretKeyEnv",
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"endpoint {_safe(url)!r} has a query or fragment",
            hint="give only scheme, host, port and an optional path prefix",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"endpoint {_safe(url)!r} uses plain http to a non-loopback host",
            hint="use https://, or http:// only for 127.0.0.1, ::1 or localhost",
        )
    return url.rstrip("/")


def resolve_base_url(*, region: str | None, endpoint: str | None) -> str:
    """Return the base URL for an app: its region's access point, or an explicit endpoint."""
    if region is not None and endpoint is not None:
        raise ConfigError(
            f"both region {region!r} and an endpoint are set",
            hint="keep one: region for a TPNS access point, endpoint for anything else",
        )
    if endpoint is not None:
        return check_base_url(endpoint)
    if region is None:
        raise ConfigError(
            "neither region nor endpoint is set",
            hint=f"set region to one of {', '.join(REGIONS)}",
        )
    if region not in REGIONS:
        close = difflib.get_close_matches(region, list(REGIONS), n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"unknown TPNS region {region!r}",
            hint=f"{suggestion}known regions: {', '.join(REGIONS)}",
        )
    return REGIONS[region]


def _safe(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=netloc).geturl()
