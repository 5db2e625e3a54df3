"""The pull-request comment: summary first, details folded, cut under a limit, escaped."""

from __future__ import annotations

from datetime import UTC, datetime

from syrupy.assertion import SnapshotAssertion

from reconciler.domain.plan import Action, ApiCall, Change, Diagnostic, Plan
from reconciler.render import render_plan_markdown
from reconciler.render.markdown import code_span, escape_html, escape_markdown

CREATED_AT = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
SUMMARY = (
    "### Plan: 1 to create, 1 to override, 1 to replace, 1 to stop, 1 to recall, 1 to cancel."
    " State only: 1 to adopt, 1 to forget."
)


def test_full_plan_snapshot(full_plan: Plan, markdown_snapshot: SnapshotAssertion) -> None:
    assert render_plan_markdown(full_plan) == markdown_snapshot


def test_empty_plan_snapshot(empty_plan: Plan, markdown_snapshot: SnapshotAssertion) -> None:
    assert render_plan_markdown(empty_plan) == markdown_snapshot


def test_cut_plan_snapshot(full_plan: Plan, markdown_snapshot: SnapshotAssertion) -> None:
    assert render_plan_markdown(full_plan, limit=2500) == markdown_snapshot


def test_summary_comes_first(full_plan: Plan) -> None:
    text = render_plan_markdown(full_plan)
    assert text.startswith(SUMMARY + "\n")
    assert "| `~` | override | 1 |" in text
    assert "| `-/+` | replace | 1 |" in text
    assert text.index("cancel.started") < text.index("<details>")


def test_empty_plan_sentence(empty_plan: Plan) -> None:
    text = render_plan_markdown(empty_plan)
    assert text.startswith("### No changes. Live push tasks match the manifests.\n")
    assert "<details>" not in text
    assert "| action |" not in text


def test_every_change_is_folded_with_a_diff(full_plan: Plan) -> None:
    text = render_plan_markdown(full_plan)
    assert text.count("<details><summary>") == 8
    assert text.count("</details>") == 8
    assert (
        "<details><summary><code>~</code> shop-android/bf-teaser will be overridden by "
        "shop-android/bf-teaser-v2</summary>"
    ) in text
    assert '```diff\n- message.title: "Black Friday teaser"\n+ message.title: "Black Friday' in text
    assert "evergreen" not in text


def test_full_plan_fits_the_default_limit(full_plan: Plan) -> None:
    text = render_plan_markdown(full_plan)
    assert len(text) <= 60_000
    assert "not shown" not in text


def test_cut_at_a_small_limit(full_plan: Plan) -> None:
    full = render_plan_markdown(full_plan)
    limit = full.index("</details>") + 600
    text = render_plan_markdown(full_plan, limit=limit)
    assert len(text) <= limit
    shown = text.count("<details>")
    assert 1 <= shown < 8
    assert text.endswith(
        f"… {8 - shown} more changes not shown; run `pushctl show plan.json` for the full plan.\n"
    )
    assert text.startswith(SUMMARY)


def test_cut_names_the_plan_file(full_plan: Plan) -> None:
    text = render_plan_markdown(full_plan, limit=1500, plan_file="out/plan-42.json")
    assert "run `pushctl show out/plan-42.json` for the full plan." in text
    assert len(text) <= 1500


def test_every_limit_is_respected(full_plan: Plan) -> None:
    for limit in (40, 300, 900, 1200, 1800, 2600, 4000):
        assert len(render_plan_markdown(full_plan, limit=limit)) <= limit


def test_diagnostics_are_cut_when_even_they_do_not_fit() -> None:
    diagnostics = tuple(
        Diagnostic(severity="error", code="e", address=f"app/t{i}", message="x" * 80)
        for i in range(50)
    )
    plan = Plan(
        tool_version="0.1.0",
        created_at=CREATED_AT,
        diagnostics=diagnostics,
        applyable=False,
    )
    text = render_plan_markdown(plan, limit=2000)
    assert len(text) <= 2000
    assert "more diagnostics not shown" in text


def test_user_text_is_escaped() -> None:
    change = Change(
        address="app/a",
        app="app",
        action=Action.CREATE,
        reason="<script>alert(1)</script> *bold* [link](http://x) @octocat | `tick`",
        warnings=("<b>loud</b> & $math$",),
        api_calls=(ApiCall(path="/v3/push/app", body={"message": {"title": "`x`"}}),),
    )
    plan = Plan(tool_version="0.1.0", created_at=CREATED_AT, changes=(change,))
    text = render_plan_markdown(plan)
    assert "<script>" not in text
    assert "<b>" not in text
    assert (
        "&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\*bold\\* \\[link\\]\\(http://x\\) "
        "@&#8203;octocat \\| \\`tick\\`"
    ) in text
    assert "&lt;b&gt;loud&lt;/b&gt; &amp; \\$math\\$" in text


def test_escape_helpers() -> None:
    assert escape_markdown("a_b\nc") == "a\\_b<br>c"
    assert escape_markdown("ESC\x1b") == "ESC\\\\x1b"
    assert escape_html('<a href="x">@me</a>') == "&lt;a href=&quot;x&quot;&gt;@&#8203;me&lt;/a&gt;"
    assert code_span("plain") == "`plain`"
    assert code_span("a `b` c") == "``a `b` c``"
    assert code_span("`edge`") == "`` `edge` ``"


def test_diff_fence_survives_backticks_in_values() -> None:
    change = Change(
        address="app/a",
        app="app",
        action=Action.CREATE,
        reason="r",
        after={"message": {"title": "```"}},
    )
    plan = Plan(tool_version="0.1.0", created_at=CREATED_AT, changes=(change,))
    text = render_plan_markdown(plan)
    assert '````diff\n+ message.title: "```"\n````' in text
