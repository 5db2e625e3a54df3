"""What recipients will see: each new notification as every channel shows it (reference 4.13).

One preview per create, override and replace: the title and content as each channel cuts them,
the vendor channels that refuse the message (it then falls back to the TPNS channel), what a tap
opens, who it reaches, and for an override the old message beside the new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.domain.plan import Action, Change
from reconciler.domain.policy.channels import channels_for, cut, refusal
from reconciler.domain.policy.sending import sent_body
from reconciler.render.audience import reach_in_words
from reconciler.render.values import clean_text

_INDENT = " " * 6
_NON_OVERRIDING = "OPPO, vivo and Huawei EMUI < 10"


@dataclass(frozen=True)
class ChannelView:
    channels: str
    title: str
    content: str
    refused: str | None = None


@dataclass(frozen=True)
class Message:
    title: str
    content: str
    tap: str


@dataclass(frozen=True)
class NotificationPreview:
    address: str
    action: Action
    platform: str
    new: Message
    reach: str
    all_devices: bool
    reversible: bool
    send_time: str | None
    views: tuple[ChannelView, ...]
    old: Message | None = None
    #: For an override: which devices keep the old message or show both (forceCollapse).
    collapse_note: str | None = None
    #: Set when the message is not drawn as a notification (in-app or silent message).
    not_shown: str | None = None


def previews(changes: Sequence[Change]) -> list[NotificationPreview]:
    return [preview for change in changes if (preview := preview_change(change)) is not None]


def preview_change(change: Change) -> NotificationPreview | None:
    body = sent_body(change)
    if body is None:
        return None
    message = body.get("message") or {}
    platform = "ios" if "environment" in body or "ios" in message else "android"
    new = _message(message, platform=platform)
    old = _old_message(change, platform=platform)
    in_app = body.get("message_type") != "notify"
    return NotificationPreview(
        address=change.new_address or change.address,
        action=change.action,
        platform=platform,
        new=new,
        reach=reach_in_words(body, app=change.app),
        all_devices=body.get("audience_type") == "all",
        reversible=change.reversible,
        send_time=str(body["send_time"]) if body.get("send_time") else None,
        views=() if in_app else _views(new, platform=platform),
        old=old if old != new else None,
        collapse_note=_collapse_note(change, body, platform=platform),
        not_shown="an in-app or silent message: the app receives it, the phone draws nothing"
        if in_app
        else None,
    )


def _message(message: dict[str, Any], *, platform: str) -> Message:
    return Message(
        title=str(message.get("title") or ""),
        content=str(message.get("content") or ""),
        tap=_tap(message, platform=platform),
    )


def _tap(message: dict[str, Any], *, platform: str) -> str:
    if platform == "ios":
        return "opens the app"
    action = (message.get("android") or {}).get("action") or {}
    kind = action.get("action_type", 1)
    if kind == 2:
        return f"opens {(action.get('browser') or {}).get('url', '?')} in the browser"
    if kind == 3:
        return f"opens {action.get('intent', '?')}"
    activity = action.get("activity")
    return f"opens the app at {activity}" if activity else "opens the app"


def _old_message(change: Change, *, platform: str) -> Message | None:
    if change.action is Action.CREATE or not change.before:
        return None
    push = change.before.get("push") or change.before
    message = dict(push.get("message") or {})
    for field in ("title", "content"):
        message.setdefault(field, change.before.get(field))
    return _message(message, platform=platform)


def _views(new: Message, *, platform: str) -> tuple[ChannelView, ...]:
    """One row per distinct rendering; channels that show the same text share a row."""
    rows: dict[tuple[str, str, str | None], list[str]] = {}
    for channel in channels_for(platform):
        refused = refusal(channel, title=new.title, content=new.content)
        shown = (cut(new.title, channel.title), cut(new.content, channel.content))
        key = ("", "", refused) if refused else (*shown, None)
        rows.setdefault(key, []).append(channel.label)
    return tuple(
        ChannelView(", ".join(labels), title, content, refused)
        for (title, content, refused), labels in rows.items()
    )


def _collapse_note(change: Change, body: dict[str, Any], *, platform: str) -> str | None:
    if change.action is not Action.OVERRIDE or platform != "android":
        return None
    if body.get("force_collapse"):
        return f"{_NON_OVERRIDING} devices cannot override: they show both messages"
    return (
        f"{_NON_OVERRIDING} devices cannot override: they keep the old message "
        "and never get the new one"
    )


def preview_text_sections(changes: Sequence[Change]) -> list[str]:
    """The text plan's preview section, or nothing when no change sends a notification."""
    found = previews(changes)
    if not found:
        return []
    blocks = [_text_block(preview) for preview in found]
    return ["What phones will show:\n\n" + "\n\n".join(blocks)]


def _text_block(preview: NotificationPreview) -> str:
    lines = [f"  {clean_text(preview.address)} ({preview.platform})"]
    lines += _facts(preview)
    if preview.views:
        lines += _table(preview.views)
    return "\n".join(lines)


def _facts(preview: NotificationPreview) -> list[str]:
    facts = [f"reaches {preview.reach}" + ("" if preview.reversible else "; cannot be undone")]
    if preview.send_time:
        facts.append(f"sent at {preview.send_time} (TPNS time)")
    facts.append(f"tap {preview.new.tap}")
    if preview.old is not None:
        same_text = (preview.old.title, preview.old.content) == (
            preview.new.title,
            preview.new.content,
        )
        was = "the same title and content" if same_text else _quoted(preview.old)
        facts.append(f"replaces: {was}; tap {preview.old.tap}")
    for note in (preview.collapse_note, preview.not_shown):
        if note:
            facts.append(note)
    return [_INDENT + clean_text(fact).replace("\n", " ") for fact in facts]


def _quoted(message: Message) -> str:
    return f"{message.title!r} / {message.content!r}"


def _table(views: Sequence[ChannelView]) -> list[str]:
    rows = [("channel", "title", "content")]
    rows += [
        (view.channels, *((f"refused ({view.refused})", "falls back to the TPNS channel")))
        if view.refused
        else (view.channels, view.title, view.content)
        for view in views
    ]
    cleaned = [tuple(clean_text(cell).replace("\n", " ") for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in cleaned) for i in range(2)]
    return [
        f"{_INDENT}{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip()
        for row in cleaned
    ]


def preview_markdown_blocks(
    changes: Sequence[Change], *, escape: Callable[[str], str]
) -> list[str]:
    """The preview as Markdown: one heading, then per notification its facts and a table."""
    found = previews(changes)
    if not found:
        return []
    blocks = ["#### What phones will show"]
    for preview in found:
        facts = "\n".join(f"- {escape(line.strip())}" for line in _facts(preview))
        block = f"**{escape(preview.address)}** ({preview.platform})\n\n{facts}"
        if preview.views:
            rows = ["| channel | title | content |", "|---|---|---|"]
            rows += [_markdown_row(view, escape=escape) for view in preview.views]
            block += "\n\n" + "\n".join(rows)
        blocks.append(block)
    return blocks


def _markdown_row(view: ChannelView, *, escape: Callable[[str], str]) -> str:
    if view.refused:
        cells = (view.channels, f"refused ({view.refused})", "falls back to the TPNS channel")
    else:
        cells = (view.channels, view.title, view.content)
    return "| " + " | ".join(escape(cell.replace("\n", " ")) for cell in cells) + " |"
