"""Each policy rule passes a task that keeps it and flags one that breaks it, at the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig, PushTask
from reconciler.domain.policy.rules import POLICY_CODES, Finding, policy_findings
from reconciler.domain.policy.settings import QuietHours

URL_PATH = ("spec", "push", "message", "android", "action", "browser", "url")
TITLE_PATH = ("spec", "push", "message", "title")
CONTENT_PATH = ("spec", "push", "message", "content")
APPS: dict[str, Any] = {
    "shop-android": {
        "accessId": "1500001048",
        "platform": "android",
        "region": "ap-guangzhou",
        "secretKeyEnv": "SHOP_ANDROID_SECRET_KEY",
    },
    "shop-ios": {
        "accessId": "1600001048",
        "platform": "ios",
        "region": "ap-guangzhou",
        "secretKeyEnv": "SHOP_IOS_SECRET_KEY",
    },
}
PUSH: dict[str, Any] = {
    "audience_type": "all",
    "message_type": "notify",
    "message": {
        "title": "Flash sale",
        "content": "Half price until midnight.",
        "android": {
            "action": {
                "action_type": 2,
                "browser": {"url": "https://shop.example.com/sale", "confirm": 0},
            }
        },
    },
}


def config_with(**policy: Any) -> PushctlConfig:
    return PushctlConfig.model_validate({"apps": APPS, "policy": policy})


def declared_task(
    name: str = "flash-sale",
    *,
    app: str = "shop-android",
    state: str = "active",
    annotations: dict[str, str] | None = None,
    **push: Any,
) -> DeclaredTask:
    """A declared task; keyword arguments replace top-level `push` fields (None removes one)."""
    body = copy.deepcopy(PUSH)
    for key, value in push.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    spec: dict[str, Any] = {"state": state, "push": body}
    if state == "overridden":
        spec["overriddenBy"] = "other"
    document = {
        "apiVersion": "pushctl/v1",
        "kind": "PushTask",
        "metadata": {"name": name, "app": app, "annotations": annotations or {}},
        "spec": spec,
    }
    return DeclaredTask(task=PushTask.model_validate(document), file="m.yaml", line=3, column=1)


def with_message(**fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = copy.deepcopy(PUSH["message"])
    message.update(fields)
    return message


LINKS = {"links": {"allow": ["example.com", "*.example.com"]}}


def link_to(url: str) -> dict[str, Any]:
    android = {"action": {"action_type": 2, "browser": {"url": url, "confirm": 0}}}
    return with_message(android=android)


def brief(findings: list[Finding]) -> list[tuple[tuple[str | int, ...], str, str]]:
    return [(f.path, f.code, f.severity) for f in findings]


def test_no_policy_checks_nothing() -> None:
    task = declared_task(message=link_to("https://evil.io/x"))
    assert policy_findings([task], config_with()) == []


# links.allow


def test_an_allowed_link_passes() -> None:
    assert policy_findings([declared_task()], config_with(**LINKS)) == []


def test_a_host_off_the_list_is_an_error_at_the_url() -> None:
    (found,) = policy_findings(
        [declared_task(message=link_to("https://evil.io/x"))], config_with(**LINKS)
    )
    assert brief([found]) == [(URL_PATH, "policy.links", "error")]
    assert "evil.io is not allowed" in found.message
    assert "add this host to policy.links.allow" in found.message


def test_the_demo_typo_says_which_host_was_meant() -> None:
    task = declared_task(message=link_to("https://shop.exmaple.com/black-friday"))
    (found,) = policy_findings([task], config_with(**LINKS))
    assert found.path == URL_PATH
    assert "looks like a typo of allowed example.com" in found.message
    assert "did you mean https://shop.example.com/black-friday?" in found.message


def test_rich_media_links_are_checked_too() -> None:
    task = declared_task(message=with_message(xg_media_resources="https://cdn.evil.io/a.png"))
    (found,) = policy_findings([task], config_with(**LINKS))
    assert found.path == ("spec", "push", "message", "xg_media_resources")


@pytest.mark.parametrize("state", ["stopped", "overridden"])
def test_tasks_that_no_longer_send_are_not_checked(state: str) -> None:
    task = declared_task(state=state, message=link_to("https://evil.io/x"))
    assert policy_findings([task], config_with(**LINKS)) == []


# requireAnnotations


def test_required_annotations_present_pass() -> None:
    task = declared_task(annotations={"ticket": "MKT-1"})
    assert policy_findings([task], config_with(requireAnnotations=["ticket"])) == []


@pytest.mark.parametrize(
    ("annotations", "path"),
    [({}, ("metadata",)), ({"ticket": " "}, ("metadata", "annotations"))],
    ids=["absent", "blank"],
)
def test_a_missing_annotation_is_flagged(
    annotations: dict[str, str], path: tuple[str, ...]
) -> None:
    task = declared_task(annotations=annotations)
    (found,) = policy_findings([task], config_with(requireAnnotations=["ticket"]))
    assert brief([found]) == [(path, "policy.annotations", "error")]
    assert "add `ticket: ...` under metadata.annotations" in found.message


# content: placeholders


def test_rendered_text_passes_the_placeholder_rule() -> None:
    assert policy_findings([declared_task()], config_with(content={})) == []


@pytest.mark.parametrize("text", ["Hi {{name}}", "Hi ${name}", "Hi %s"])
def test_an_unrendered_placeholder_is_flagged(text: str) -> None:
    task = declared_task(message=with_message(content=text))
    (found,) = policy_findings([task], config_with(content={}))
    assert brief([found]) == [(CONTENT_PATH, "policy.placeholders", "error")]


def test_the_placeholder_rule_can_be_switched_off() -> None:
    task = declared_task(message=with_message(title="Hi {{name}}"))
    assert policy_findings([task], config_with(content={"placeholders": False})) == []


# content: empty title


def test_an_empty_notification_title_is_flagged() -> None:
    task = declared_task(message=with_message(title="  "))
    (found,) = policy_findings([task], config_with(content={}))
    assert brief([found]) == [(TITLE_PATH, "policy.empty-title", "error")]


def test_an_in_app_message_may_have_an_empty_title() -> None:
    message = {"title": "", "content": "Data for the app"}
    task = declared_task(message_type="message", message=message)
    assert policy_findings([task], config_with(content={})) == []


# content: channel limits


def test_text_within_the_chosen_channel_passes() -> None:
    assert policy_findings([declared_task()], config_with(content={"channels": ["huawei"]})) == []


def test_content_over_huawei_80_is_flagged_as_a_warning() -> None:
    task = declared_task(message=with_message(content="x" * 81))
    (found,) = policy_findings([task], config_with(content={"channels": ["huawei"]}))
    assert brief([found]) == [(CONTENT_PATH, "policy.length", "warning")]
    assert "81 characters, over the 80 that Huawei allows" in found.message


def test_a_channel_of_the_other_platform_is_not_applied() -> None:
    task = declared_task(message=with_message(content="x" * 81))
    assert policy_findings([task], config_with(content={"channels": ["ios-banner"]})) == []


# quietHours


QUIET = {"quietHours": {"zone": "Asia/Shanghai", "start": "22:00", "end": "08:00"}}


@pytest.mark.parametrize("send_time", ["2026-12-01T09:00:00+08:00", "2026-12-01T21:59:00+08:00"])
def test_a_send_time_outside_quiet_hours_passes(send_time: str) -> None:
    task = declared_task(send_time=send_time)
    assert policy_findings([task], config_with(**QUIET)) == []


@pytest.mark.parametrize(
    "send_time",
    ["2026-12-01T23:30:00+08:00", "2026-12-01T02:00:00+08:00", "2026-12-01T15:00:00Z"],
    ids=["evening", "after-midnight", "utc-written"],
)
def test_a_send_time_inside_quiet_hours_is_flagged(send_time: str) -> None:
    task = declared_task(send_time=send_time)
    (found,) = policy_findings([task], config_with(**QUIET))
    assert brief([found]) == [(("spec", "push", "send_time"), "policy.quiet-hours", "error")]
    assert "inside the quiet hours 22:00-08:00 Asia/Shanghai" in found.message


def test_quiet_hours_severity_is_configurable() -> None:
    task = declared_task(send_time="2026-12-01T23:30:00+08:00")
    config = config_with(**QUIET, severity={"quietHours": "warning"})
    assert [f.severity for f in policy_findings([task], config)] == ["warning"]
    config = config_with(**QUIET, severity={"quietHours": "off"})
    assert policy_findings([task], config) == []


def test_a_daytime_window_does_not_wrap() -> None:
    window = QuietHours.model_validate({"zone": "+08:00", "start": "12:00", "end": "14:00"})
    assert window.contains(window.start)
    assert not window.contains(window.end)


# the section itself


@pytest.mark.parametrize(
    "policy",
    [
        {"links": {"allow": ["https://example.com"]}},
        {"links": {"allow": []}},
        {"quietHours": {"zone": "Mars/Olympus", "start": "22:00", "end": "08:00"}},
        {"content": {"channels": ["nokia"]}},
        {"severity": {"links": "fatal"}},
        {"linkz": {}},
    ],
    ids=["scheme", "empty-allow", "zone", "channel", "severity", "unknown-key"],
)
def test_a_wrong_policy_section_is_refused(policy: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        config_with(**policy)


def test_every_code_is_described() -> None:
    tasks = [
        declared_task(
            message=with_message(
                title="{{t}}" + "x" * 60,
                content="",
                android={"action": {"browser": {"url": "https://e.io"}}},
            ),
            send_time="2026-12-01T23:30:00+08:00",
        ),
        declared_task("b", message=with_message(title="")),
    ]
    config = PushctlConfig.model_validate(
        {
            "apps": config_with().model_dump(by_alias=True)["apps"],
            "policy": {
                **LINKS,
                **QUIET,
                "requireAnnotations": ["ticket"],
                "content": {"channels": ["xiaomi"]},
            },
        }
    )
    # Daily broadcasts are counted against state, at plan time (test_sending.py).
    assert {f.code for f in policy_findings(tasks, config)} == set(POLICY_CODES) - {
        "policy.broadcasts"
    }
