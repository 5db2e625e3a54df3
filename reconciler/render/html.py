"""The plan as one self-contained HTML page: each notification drawn as a card per channel,
and a timeline of the scheduled sends and deadlines.

Nothing is fetched: styles are inline, there is no script, and a Content-Security-Policy of
`default-src 'none'` keeps a browser from loading anything a manifest might smuggle in.
Every piece of user text is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from reconciler.domain.body import parse_send_time
from reconciler.domain.plan import SYMBOLS, Plan
from reconciler.render import wording
from reconciler.render.preview import ChannelView, Message, NotificationPreview, previews
from reconciler.render.values import clean_text, format_datetime

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1d232a;
 background:#f4f5f7;padding:0 1rem}
h1{font-size:1.5rem;margin:0}.summary{font-weight:600}
section{margin:2rem 0}h2{font-size:1.15rem;border-bottom:1px solid #d0d4da;padding-bottom:.3rem}
.notification{background:#fff;border-radius:10px;padding:1rem 1.2rem;margin:1rem 0;
 box-shadow:0 1px 3px #0002}
.notification h3{margin:.1rem 0 .4rem;font-size:1rem}
.facts{margin:.2rem 0 .8rem;padding-left:1.2rem;color:#3b4450}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}
.card{width:17rem;border-radius:14px;background:#fbfbfd;border:1px solid #d9dde3;
 padding:.6rem .8rem;box-shadow:0 2px 6px #0001}
.card .channel{font-size:.75rem;color:#66707c;text-transform:uppercase;letter-spacing:.03em}
.card .title{font-weight:600;margin:.2rem 0 .1rem;overflow-wrap:anywhere}
.card .content{color:#2f3640;overflow-wrap:anywhere}
.card.refused{background:#fff4f2;border-color:#f1b3a8}.card.refused .title{color:#a4301c}
.card.old{background:#f0f1f3;border-style:dashed;opacity:.8}
.reach-all{color:#a4301c;font-weight:600}
.timeline{list-style:none;padding:0;border-left:3px solid #c3c9d1;margin-left:.5rem}
.timeline li{position:relative;padding:.3rem 0 .3rem 1.2rem}
.timeline li::before{content:"";position:absolute;left:-.55rem;top:.7rem;width:.75rem;
 height:.75rem;border-radius:50%;background:#4a78c2}
.timeline li.deadline::before{background:#d08a1a}.timeline li.expiry::before{background:#a4301c}
.timeline time{font-weight:600;margin-right:.5rem}
.changes{padding-left:1.2rem}.changes code{margin-right:.4rem}
.diagnostics .error{color:#a4301c}.diagnostics .warning{color:#8a5a00}
"""


@dataclass(frozen=True)
class TimelineEvent:
    moment: datetime
    label: str
    kind: str


def render_plan_html(plan: Plan) -> str:
    """A complete HTML document (UTF-8) for the plan."""
    found = previews(wording.visible_changes(plan))
    body = "\n".join(
        part
        for part in (
            _header(plan),
            _notifications_section(found),
            _timeline_section(timeline_events(plan, found)),
            _changes_section(plan),
            _diagnostics_section(plan),
        )
        if part
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<title>pushctl plan</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _text(value: str) -> str:
    return escape(clean_text(value), quote=True)


def _header(plan: Plan) -> str:
    lines = [
        "<header>",
        "<h1>pushctl plan</h1>",
        f'<p class="summary">{_text(wording.summary_line(plan))}</p>',
        f"<p>Made {_text(format_datetime(plan.created_at))}; "
        f"{_text(wording.refresh_line(plan.api_usage))}</p>",
    ]
    blocked = wording.blocked_line(plan)
    if blocked:
        lines.append(f'<p class="blocked">{_text(blocked)}</p>')
    return "\n".join([*lines, "</header>"])


def _notifications_section(found: list[NotificationPreview]) -> str:
    if not found:
        return ""
    articles = "\n".join(_notification(preview) for preview in found)
    return f'<section id="notifications">\n<h2>What phones will show</h2>\n{articles}\n</section>'


def _notification(preview: NotificationPreview) -> str:
    reach = f'<span class="{"reach-all" if preview.all_devices else "reach"}">'
    reach += f"reaches {_text(preview.reach)}</span>"
    facts = [reach, f"tap {_text(preview.new.tap)}"]
    if not preview.reversible:
        facts.append("cannot be undone")
    if preview.send_time:
        facts.append(f"sent at {_text(preview.send_time)} (TPNS time)")
    facts += [_text(note) for note in (preview.collapse_note, preview.not_shown) if note]
    cards = [_card(view) for view in preview.views]
    if preview.old is not None:
        cards.append(_old_card(preview.old))
    return "\n".join(
        [
            f'<article class="notification" data-address="{_text(preview.address)}" '
            f'data-platform="{preview.platform}">',
            f"<h3>{_text(preview.address)} <small>({preview.platform})</small></h3>",
            '<ul class="facts">' + "".join(f"<li>{fact}</li>" for fact in facts) + "</ul>",
            '<div class="cards">' + "".join(cards) + "</div>",
            "</article>",
        ]
    )


def _card(view: ChannelView) -> str:
    if view.refused:
        return (
            f'<div class="card refused" data-channel="{_text(view.channels)}">'
            f'<div class="channel">{_text(view.channels)}</div>'
            f'<div class="title">refused: {_text(view.refused)}</div>'
            '<div class="content">falls back to the TPNS channel</div></div>'
        )
    return (
        f'<div class="card" data-channel="{_text(view.channels)}">'
        f'<div class="channel">{_text(view.channels)}</div>'
        f'<div class="title">{_text(view.title)}</div>'
        f'<div class="content">{_text(view.content)}</div></div>'
    )


def _old_card(old: Message) -> str:
    return (
        '<div class="card old" data-channel="previous message">'
        '<div class="channel">replaces (old message)</div>'
        f'<div class="title">{_text(old.title)}</div>'
        f'<div class="content">{_text(old.content)}</div>'
        f'<div class="channel">tap {_text(old.tap)}</div></div>'
    )


def timeline_events(plan: Plan, found: list[NotificationPreview]) -> list[TimelineEvent]:
    """Scheduled sends (read in TPNS's default zone), apply deadlines and the plan's expiry."""
    events = [
        TimelineEvent(_tpns_time(p.send_time), f"{p.address} is sent", "send")
        for p in found
        if p.send_time
    ]
    events += [
        TimelineEvent(
            change.deadline, f"last moment to apply: {wording.headline(change)}", "deadline"
        )
        for change in wording.visible_changes(plan)
        if change.deadline is not None
    ]
    if plan.not_after is not None:
        events.append(TimelineEvent(plan.not_after, "the plan expires", "expiry"))
    return sorted(events, key=lambda event: (event.moment, event.kind, event.label))


def _tpns_time(text: str) -> datetime:
    return parse_send_time(text.replace(" ", "T", 1))


def _timeline_section(events: list[TimelineEvent]) -> str:
    if not events:
        return ""
    items = "\n".join(
        f'<li class="{event.kind}"><time datetime="{event.moment.isoformat()}">'
        f"{_text(format_datetime(event.moment))}</time>{_text(event.label)}</li>"
        for event in events
    )
    return (
        '<section id="timeline">\n<h2>Timeline</h2>\n'
        f'<ol class="timeline">\n{items}\n</ol>\n</section>'
    )


def _changes_section(plan: Plan) -> str:
    changes = wording.visible_changes(plan)
    if not changes:
        return ""
    items = "\n".join(
        f'<li data-action="{change.action.value}"><code>{escape(SYMBOLS[change.action])}</code>'
        f"{_text(wording.headline(change))}: {_text(change.reason)}</li>"
        for change in changes
    )
    heading = '<section id="changes">\n<h2>Changes</h2>'
    return f'{heading}\n<ul class="changes">\n{items}\n</ul>\n</section>'


def _diagnostics_section(plan: Plan) -> str:
    if not plan.diagnostics:
        return ""
    items = "\n".join(
        f'<li class="{d.severity}">{d.severity}[{_text(d.code)}] {_text(d.address)} '
        f"{_text(wording.location(d))}: {_text(d.message)}</li>"
        for d in wording.errors_first(plan.diagnostics)
    )
    return (
        '<section id="diagnostics" class="diagnostics">\n<h2>Diagnostics</h2>\n'
        f"<ul>\n{items}\n</ul>\n</section>"
    )
