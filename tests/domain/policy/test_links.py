"""Link hosts: wildcards, near misses of allowed hosts, and the edit distance behind them."""

from __future__ import annotations

import pytest

from reconciler.domain.policy.links import edit_distance, host_allowed, links_in, near_miss

ALLOW = ("example.com", "*.example.com")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("shop.example.com", True),
        ("a.b.example.com", True),
        ("exmaple.com", False),
        ("shop.exmaple.com", False),
        ("notexample.com", False),
        ("example.com.evil.io", False),
    ],
)
def test_hosts_and_wildcards(host: str, allowed: bool) -> None:
    assert host_allowed(host, ALLOW) is allowed


def test_a_wildcard_does_not_allow_the_bare_domain() -> None:
    assert not host_allowed("example.com", ("*.example.com",))


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("example.com", "example.com", 0),
        ("exmaple.com", "example.com", 1),  # two letters swapped: one slip
        ("exampel.com", "example.com", 1),
        ("examples.com", "example.com", 1),
        ("exmpl.com", "example.com", 2),
        ("", "abc", 3),
    ],
)
def test_edit_distance_counts_a_swap_once(a: str, b: str, edits: int) -> None:
    assert edit_distance(a, b) == edits


def test_the_demo_typo_is_a_near_miss_with_the_host_meant() -> None:
    miss = near_miss("shop.exmaple.com", ALLOW)
    assert miss is not None
    assert (miss.meant_host, miss.edits) == ("shop.example.com", 1)


@pytest.mark.parametrize("host", ["evil.io", "shop.evil.io", "example.org.cn", "com"])
def test_an_unrelated_host_is_no_near_miss(host: str) -> None:
    assert near_miss(host, ALLOW) is None


def test_a_short_domain_is_no_near_miss_of_another() -> None:
    # One edit turns a.io into b.io: different names, not a typo.
    assert near_miss("b.io", ("a.io",)) is None


def test_links_are_found_with_their_paths() -> None:
    message = {
        "title": "https://not-a-field-we-skip.example.com",
        "android": {"action": {"browser": {"url": "HTTPS://Shop.Example.com/x"}}},
        "xg_media_resources": "http://img.example.com/a.png",
        "custom": ["ftp://x", "myapp://home"],
    }
    found = {(link.path, link.host) for link in links_in(message)}
    assert found == {
        (("title",), "not-a-field-we-skip.example.com"),
        (("android", "action", "browser", "url"), "shop.example.com"),
        (("xg_media_resources",), "img.example.com"),
    }
