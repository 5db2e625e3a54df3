"""The HTML plan: self-contained, escaped, a card per channel rendering, a sorted timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from reconciler.domain.plan import Action, ApiCall, Change, Plan
from reconciler.render.html import render_plan_html, timeline_events
from reconciler.render.preview import previews

CST = timezone(timedelta(hours=8))


def push(title: str, *, send_time: str | None = None, audience: str = "all") -> dict[str, object]:
    body: dict[str, object] = {
        "audience_type": audience,
        "message_type": "notify",
        "message": {"title": title, "content": "Deals inside."},
    }
    if audience == "tag":
        body["tag_list"] = {"tags": ["vip"], "op": "OR"}
    if send_time:
        body["send_time"] = send_time
    return body


def create(name: str, body: dict[str, object], **fields: object) -> Change:
    return Change(
        address=f"shop-android/{name}",
        app="shop-android",
        action=Action.CREATE,
        new_address=f"shop-android/{name}",
        api_calls=(ApiCall(path="/v3/push/app", body=body),),
        reason="declared and not yet sent",
        **fields,  # type: ignore[arg-type]
    )


def sample_plan() -> Plan:
    return Plan(
        tool_version="0",
        created_at=datetime(2026, 11, 28, 10, 0, tzinfo=CST),
        not_after=datetime(2026, 12, 1, 9, 0, tzinfo=CST),
        changes=(
            create(
                "teaser",
                push("Cyber Monday starts tomorrow", send_time="2026-12-01 09:00:00"),
                deadline=datetime(2026, 12, 1, 9, 0, tzinfo=CST),
            ),
            create(
                "early",
                push(
                    "Early <script>x</script>",
                    audience="tag",
                    send_time="2026-11-30 20:00:00",
                ),
            ),
            create("now", push("Flash sale: 50% off until midnight")),
        ),
    )


def test_the_page_fetches_nothing() -> None:
    page = render_plan_html(sample_plan())
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)\s*=""", page)
    assert "url(" not in page


def test_user_text_is_escaped() -> None:
    page = render_plan_html(sample_plan())
    assert "Early &lt;script&gt;x&lt;/script&gt;" in page


def test_one_card_per_distinct_rendering_and_refusals_marked() -> None:
    page = render_plan_html(sample_plan())
    assert page.count('<article class="notification"') == 3
    assert page.count('class="card refused"') == 1  # Meizu and OPPO refuse the long title
    assert 'data-channel="Meizu, OPPO"' in page
    assert 'class="reach-all">reaches all devices of app shop-android' in page


def test_the_timeline_orders_sends_deadlines_and_expiry() -> None:
    plan = sample_plan()
    events = timeline_events(plan, previews(plan.changes))
    assert [(e.moment.isoformat(), e.kind) for e in events] == [
        ("2026-11-30T20:00:00+08:00", "send"),
        ("2026-12-01T09:00:00+08:00", "deadline"),
        ("2026-12-01T09:00:00+08:00", "expiry"),
        ("2026-12-01T09:00:00+08:00", "send"),
    ]


def test_an_empty_plan_still_makes_a_page() -> None:
    page = render_plan_html(Plan(tool_version="0", created_at=datetime(2026, 1, 1, tzinfo=CST)))
    assert "No changes. Live push tasks match the manifests." in page
    assert 'id="timeline"' not in page
