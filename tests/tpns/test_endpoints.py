"""Regions, and plain http allowed for loopback hosts only."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.tpns.endpoints import check_base_url, is_loopback_host, resolve_base_url


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("ap-guangzhou", "https://api.tpns.tencent.com"),
        ("ap-shanghai", "https://api.tpns.sh.tencent.com"),
        ("ap-hongkong", "https://api.tpns.hk.tencent.com"),
        ("ap-singapore", "https://api.tpns.sgp.tencent.com"),
    ],
)
def test_regions(region: str, url: str) -> None:
    assert resolve_base_url(region=region, endpoint=None) == url


def test_unknown_region_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="unknown TPNS region") as caught:
        resolve_base_url(region="ap-guangzou", endpoint=None)
    assert "did you mean 'ap-guangzhou'" in str(caught.value)


def test_region_and_endpoint_are_exclusive_and_one_is_needed() -> None:
    with pytest.raises(ConfigError, match="both region"):
        resolve_base_url(region="ap-guangzhou", endpoint="https://x.example")
    with pytest.raises(ConfigError, match="neither region nor endpoint"):
        resolve_base_url(region=None, endpoint=None)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080",
        "http://127.3.4.5/",
        "http://localhost:9000/prefix",
        "http://LOCALHOST",
        "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]:8080",
        "https://api.tpns.tencent.com/",
        "https://tpns.example.com:8443",
    ],
)
def test_allowed_endpoints(endpoint: str) -> None:
    assert resolve_base_url(region=None, endpoint=endpoint) == endpoint.rstrip("/")


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://api.tpns.tencent.com", "plain http to a non-loopback host"),
        ("http://10.0.0.1:8080", "plain http to a non-loopback host"),
        ("http://localhost.evil.example", "plain http to a non-loopback host"),
        ("http://127.0.0.1.nip.io", "plain http to a non-loopback host"),
        ("ftp://127.0.0.1", "not an http"),
        ("api.tpns.tencent.com", "not an http"),
        ("https://api.tpns.tencent.com/?x=1", "query or fragment"),
    ],
)
def test_refused_endpoints(endpoint: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        check_base_url(endpoint)


def test_credentials_in_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        check_base_url("https://1500001048:topsecret@api.tpns.tencent.com")
    assert "topsecret" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("128.0.0.1", False)],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
