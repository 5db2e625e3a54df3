"""The policy rules: each looks at one declared task and yields findings at a field path.

Only tasks that send (`state: active` with a `push`) are checked: a stopped, recalled,
cancelled or overridden task keeps its old body in the manifest for the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.domain.body import parse_send_time
from reconciler.domain.manifest.models import DeclaredTask, DesiredState, PushctlConfig
from reconciler.domain.policy.channels import BY_NAME
from reconciler.domain.policy.links import FieldPath, host_allowed, links_in, near_miss
from reconciler.domain.policy.settings import NotificationPolicy, Severity

PUSH: FieldPath = ("spec", "push")
MESSAGE: FieldPath = (*PUSH, "message")
PLACEHOLDERS: tuple[str, ...] = ("{{", "${", "%s")

#: Stable codes of the policy findings, and what each means.
POLICY_CODES: dict[str, str] = {
    "policy.links": "a link's host is not in policy.links.allow",
    "policy.annotations": "a task that sends lacks a key of policy.requireAnnotations",
    "policy.placeholders": "a text still holds a template placeholder ({{, ${, %s)",
    "policy.empty-title": "a notification with an empty title",
    "policy.length": "a title or content longer than a channel named in policy.content.channels",
    "policy.quiet-hours": "a send_time, or an immediate push planned now, inside policy.quietHours",
    "policy.broadcasts": "more all-device pushes of one app in 24 hours than maxBroadcastsPerDay",
}


@dataclass(frozen=True)
class Finding:
    declared: DeclaredTask
    path: FieldPath
    code: str
    severity: Severity
    message: str


def policy_findings(tasks: list[DeclaredTask], config: PushctlConfig) -> list[Finding]:
    """Every finding of every rule the policy switches on, in declaration order."""
    found: list[Finding] = []
    for declared in tasks:
        push = declared.task.spec.push
        if push is None or declared.task.spec.state is not DesiredState.ACTIVE:
            continue
        found.extend(_task_findings(declared, push, config))
    return [finding for finding in found if finding.severity != "off"]


def _task_findings(
    declared: DeclaredTask, push: dict[str, Any], config: PushctlConfig
) -> Iterator[Finding]:
    policy = config.policy
    yield from _links(declared, push, policy)
    yield from _annotations(declared, policy)
    yield from _placeholders(declared, push, policy)
    yield from _empty_title(declared, push, policy)
    app = config.apps.get(declared.task.metadata.app)
    if app is not None:
        yield from _lengths(declared, push, policy, platform=app.platform.value)
    yield from _quiet_hours(declared, push, policy, utc_offset=config.tpns_utc_offset)


def _links(
    declared: DeclaredTask, push: dict[str, Any], policy: NotificationPolicy
) -> Iterator[Finding]:
    if policy.links is None:
        return
    allow = policy.links.allow
    for link in links_in(push.get("message"), MESSAGE):
        if host_allowed(link.host, allow):
            continue
        miss = near_miss(link.host, allow)
        if miss is not None:
            meant = link.url.replace(link.host, miss.meant_host, 1)
            message = (
                f"link host {link.host} looks like a typo of allowed {miss.allowed} "
                f"({miss.edits} letter{'s' if miss.edits > 1 else ''} off); "
                f"did you mean {meant}?"
            )
        else:
            message = (
                f"link host {link.host or '(none)'} is not allowed by policy.links.allow "
                f"({', '.join(allow)}); link to an allowed host, or add this host to "
                "policy.links.allow in pushctl.yaml"
            )
        yield Finding(declared, link.path, "policy.links", policy.severity.links, message)


def _annotations(declared: DeclaredTask, policy: NotificationPolicy) -> Iterator[Finding]:
    annotations = declared.task.metadata.annotations
    missing = [key for key in policy.require_annotations if not annotations.get(key, "").strip()]
    if not missing:
        return
    path: FieldPath = ("metadata", "annotations") if annotations else ("metadata",)
    wanted = ", ".join(f"`{key}: ...`" for key in missing)
    yield Finding(
        declared,
        path,
        "policy.annotations",
        policy.severity.annotations,
        f"policy.requireAnnotations asks every task that sends for {', '.join(missing)}; "
        f"add {wanted} under metadata.annotations",
    )


def _texts(push: dict[str, Any]) -> Iterator[tuple[FieldPath, str]]:
    message = push.get("message") or {}
    for field in ("title", "content"):
        if isinstance(message.get(field), str):
            yield (*MESSAGE, field), message[field]


def _placeholders(
    declared: DeclaredTask, push: dict[str, Any], policy: NotificationPolicy
) -> Iterator[Finding]:
    if policy.content is None or not policy.content.placeholders:
        return
    for path, text in _texts(push):
        marks = [mark for mark in PLACEHOLDERS if mark in text]
        if marks:
            yield Finding(
                declared,
                path,
                "policy.placeholders",
                policy.severity.placeholders,
                f"{path[-1]} {text!r} still holds the placeholder {marks[0]!r}: phones would "
                "show it as written; render the template before declaring the task",
            )


def _empty_title(
    declared: DeclaredTask, push: dict[str, Any], policy: NotificationPolicy
) -> Iterator[Finding]:
    if policy.content is None or not policy.content.empty_title:
        return
    if push.get("message_type") != "notify":
        return
    title = (push.get("message") or {}).get("title")
    if isinstance(title, str) and not title.strip():
        yield Finding(
            declared,
            (*MESSAGE, "title"),
            "policy.empty-title",
            policy.severity.empty_title,
            "the notification has an empty title: vendor channels refuse it and the TPNS "
            "channel shows only the app name; write a title",
        )


def _lengths(
    declared: DeclaredTask, push: dict[str, Any], policy: NotificationPolicy, *, platform: str
) -> Iterator[Finding]:
    if policy.content is None:
        return
    for name in policy.content.channels:
        channel = BY_NAME[name]
        if channel.platform != platform:
            continue
        for path, text in _texts(push):
            limit = channel.title if path[-1] == "title" else channel.content
            if limit is not None and len(text) > limit:
                yield Finding(
                    declared,
                    path,
                    "policy.length",
                    policy.severity.length,
                    f"{path[-1]} has {len(text)} characters, over the {limit} that "
                    f"{channel.label} allows (policy.content.channels); shorten it",
                )


def _quiet_hours(
    declared: DeclaredTask, push: dict[str, Any], policy: NotificationPolicy, *, utc_offset: str
) -> Iterator[Finding]:
    quiet = policy.quiet_hours
    if quiet is None or not push.get("send_time"):
        return
    local = parse_send_time(str(push["send_time"]), utc_offset=utc_offset).astimezone(quiet.tz)
    if quiet.contains(local.time()):
        window = f"{quiet.start:%H:%M}-{quiet.end:%H:%M} {quiet.zone}"
        yield Finding(
            declared,
            (*PUSH, "send_time"),
            "policy.quiet-hours",
            policy.severity.quiet_hours,
            f"send_time is {local:%Y-%m-%d %H:%M} {quiet.zone}, inside the quiet hours "
            f"{window}; move it outside the window",
        )
