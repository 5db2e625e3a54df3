"""The text plan: snapshots of the whole output and the exact sentences scripts rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from syrupy.assertion import SnapshotAssertion

from reconciler.domain.plan import Action, ApiCall, ApiUsage, Change, Diagnostic, Plan
from reconciler.render import render_plan_text
from reconciler.render.values import format_datetime

CREATED_AT = datetime(2026, 11, 22, 10, 30, tzinfo=timezone(timedelta(hours=8)))


def _plan_of(*actions: Action, **fields: object) -> Plan:
    changes = tuple(
        Change(address=f"app/task-{i}", app="app", action=action, reason="because")
        for i, action in enumerate(actions)
    )
    return Plan.model_validate(
        {"tool_version": "0.1.0", "created_at": CREATED_AT, "changes": changes, **fields}
    )


def _last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_full_plan_snapshot(full_plan: Plan, text_snapshot: SnapshotAssertion) -> None:
    assert render_plan_text(full_plan) == text_snapshot


def test_empty_plan_snapshot(empty_plan: Plan, text_snapshot: SnapshotAssertion) -> None:
    assert render_plan_text(empty_plan) == text_snapshot


def test_summary_sentence_is_the_design_sentence() -> None:
    plan = _plan_of(Action.CREATE, Action.OVERRIDE, Action.OVERRIDE, Action.STOP, Action.CANCEL)
    text = render_plan_text(plan)
    expected = (
        "Plan: 1 to create, 2 to override, 0 to replace, 1 to stop, 0 to recall, 1 to cancel."
    )
    assert _last_line(text) == expected
    assert text.count("Plan: ") == 1


def test_state_only_counts_follow_in_the_same_line(full_plan: Plan) -> None:
    lines = render_plan_text(full_plan).splitlines()
    summary = [line for line in lines if line.startswith("Plan: ")]
    assert summary == [
        "Plan: 1 to create, 1 to override, 1 to replace, 1 to stop, 1 to recall, 1 to cancel."
        " State only: 1 to adopt, 1 to forget."
    ]


def test_state_only_plan_is_not_reported_as_no_changes() -> None:
    text = render_plan_text(_plan_of(Action.FORGET))
    assert _last_line(text) == (
        "Plan: 0 to create, 0 to override, 0 to replace, 0 to stop, 0 to recall, 0 to cancel."
        " State only: 0 to adopt, 1 to forget."
    )


def test_empty_plan_sentence(empty_plan: Plan) -> None:
    text = render_plan_text(empty_plan)
    assert _last_line(text) == "No changes. Live push tasks match the manifests."
    assert "will perform" not in text


def test_no_op_changes_count_as_no_changes() -> None:
    text = render_plan_text(_plan_of(Action.NO_OP, Action.NO_OP))
    assert _last_line(text) == "No changes. Live push tasks match the manifests."
    assert "app/task-0" not in text


@pytest.mark.parametrize(
    ("action", "headline"),
    [
        (Action.CREATE, "  + app/task-0 will be created"),
        (Action.OVERRIDE, "  ~ app/task-0 will be overridden"),
        (Action.REPLACE, "-/+ app/task-0 will be replaced"),
        (Action.STOP, "  - app/task-0 will be stopped"),
        (Action.RECALL, "  - app/task-0 will be recalled"),
        (Action.CANCEL, "  - app/task-0 will be cancelled"),
        (Action.ADOPT, "  = app/task-0 will be adopted into state; the live task is not touched"),
        (
            Action.FORGET,
            "  = app/task-0 will be forgotten by pushctl; the live task is not touched",
        ),
    ],
)
def test_each_action_has_its_symbol_and_headline(action: Action, headline: str) -> None:
    assert headline in render_plan_text(_plan_of(action)).splitlines()


def test_override_names_the_overriding_task(full_plan: Plan) -> None:
    lines = render_plan_text(full_plan).splitlines()
    expected = "  ~ shop-android/bf-teaser will be overridden by shop-android/bf-teaser-v2"
    assert expected in lines


def test_change_details(full_plan: Plan) -> None:
    text = render_plan_text(full_plan)
    assert '      ~ message.title: "Black Friday teaser" -> "Black Friday starts now"' in text
    assert "      + message.ios.aps.badge_type: -1" in text
    assert '      - message.ios.custom: {"ref": "digest-41"}' in text
    assert '        POST /v3/push/stop_push_msg {"pushId": "3895624650"}' in text
    assert "      deadline:   must apply before 2026-12-03 08:00 +08:00" in text
    assert "      ! recall wakes every app that received the message to remove it" in text
    assert "      calls:      none (state only)" in text


def test_cannot_be_undone_only_when_irreversible() -> None:
    irreversible = _plan_of(Action.STOP)
    reversible = irreversible.model_copy(
        update={"changes": (irreversible.changes[0].model_copy(update={"reversible": True}),)}
    )
    assert "cannot be undone" in render_plan_text(irreversible)
    assert "cannot be undone" not in render_plan_text(reversible)


def test_create_without_diff_shows_every_field_it_sends() -> None:
    change = Change(
        address="app/new",
        app="app",
        action=Action.CREATE,
        reason="declared",
        after={"message": {"title": "Hi", "android": {"ring": 1}}, "expire_time": 60},
        api_calls=(ApiCall(path="/v3/push/app", body={"message": {"title": "Hi"}}),),
    )
    plan = Plan(tool_version="0.1.0", created_at=CREATED_AT, changes=(change,))
    lines = render_plan_text(plan).splitlines()
    assert '      + message.title: "Hi"' in lines
    assert "      + message.android.ring: 1" in lines
    assert "      + expire_time: 60" in lines
    assert '        POST /v3/push/app {"message": {…}}' in lines


def test_diagnostics_errors_first_with_location(full_plan: Plan) -> None:
    lines = render_plan_text(full_plan).splitlines()
    diagnostic_lines = [line for line in lines if line.startswith(("Error:", "Warning:"))]
    assert diagnostic_lines[0].startswith(
        "Error: [cancel.started] shop-ios/launch (manifests/ios/launch.yaml:7:10): task launch"
    )
    assert diagnostic_lines[1].startswith(
        "Warning: [override.partial-collapse] shop-android/bf-teaser "
        "(manifests/android/bf-teaser.yaml:9:3): OPPO"
    )


def test_unapplyable_plan_says_why(full_plan: Plan) -> None:
    lines = render_plan_text(full_plan).splitlines()
    assert lines[-1] == "This plan cannot be applied: fix the 1 error and plan again."
    assert "Apply before 2026-11-30 09:00 +08:00; after that the plan expires." in lines


def test_applyable_plan_has_no_blocker_line() -> None:
    assert "cannot be applied" not in render_plan_text(_plan_of(Action.CREATE))


def test_refresh_line() -> None:
    usage = ApiUsage(calls={"/v3/statistics/get_push_record": 3}, lower_bound=3)
    plan = _plan_of(api_usage=usage)
    assert "Refresh: 3 TPNS calls (get_push_record 3); lower bound 3." in render_plan_text(plan)
    assert "Refresh: 0 TPNS calls; lower bound 0." in render_plan_text(_plan_of())
    single = _plan_of(api_usage=ApiUsage(calls={"/v3/statistics/get_push_record": 1}))
    assert "Refresh: 1 TPNS call (get_push_record 1); lower bound 0." in render_plan_text(single)


def test_plain_output_has_no_escape_characters(full_plan: Plan) -> None:
    assert "\x1b" not in render_plan_text(full_plan, color=False)


def test_color_output_uses_ansi_codes(full_plan: Plan) -> None:
    colored = render_plan_text(full_plan, color=True)
    assert "\x1b[" in colored
    assert "\x1b[31;1mError:\x1b[0m" in colored


def test_control_characters_in_user_text_are_escaped() -> None:
    change = Change(
        address="app/evil",
        app="app",
        action=Action.STOP,
        reason="owned \x1b[2Jby\x9b someone",
        warnings=("bell\x07",),
    )
    diagnostic = Diagnostic(
        severity="error", code="x", address="app/evil", message="clear\x1b[2J\r"
    )
    plan = Plan(
        tool_version="0.1.0",
        created_at=CREATED_AT,
        changes=(change,),
        diagnostics=(diagnostic,),
        applyable=False,
    )
    text = render_plan_text(plan)
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert "\x07" not in text
    assert "\r" not in text
    assert "owned \\x1b[2Jby\\x9b someone" in text


def test_multi_line_reason_stays_aligned() -> None:
    change = Change(address="app/a", app="app", action=Action.STOP, reason="first\nsecond")
    plan = Plan(tool_version="0.1.0", created_at=CREATED_AT, changes=(change,))
    lines = render_plan_text(plan).splitlines()
    assert "      reason:     first" in lines
    assert "                  second" in lines


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (
            datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=8))),
            "2026-12-01 09:00 +08:00",
        ),
        (datetime(2026, 12, 1, 1, 0, tzinfo=UTC), "2026-12-01 01:00 +00:00"),
        (
            datetime(2026, 12, 1, 1, 0, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
            "2026-12-01 01:00 -03:30",
        ),
        (datetime(2026, 12, 1, 1, 0), "2026-12-01 01:00"),
    ],
)
def test_format_datetime(moment: datetime, expected: str) -> None:
    assert format_datetime(moment) == expected


def test_dependencies_are_named() -> None:
    change = Change(
        address="app/b",
        app="app",
        action=Action.CANCEL,
        reason="r",
        depends_on=("app/a", "app/c"),
    )
    plan = Plan(tool_version="0.1.0", created_at=CREATED_AT, changes=(change,))
    assert "      depends on: app/a, app/c" in render_plan_text(plan).splitlines()


def test_an_empty_plan_with_errors_does_not_claim_all_is_well(empty_plan: Plan) -> None:
    error = Diagnostic(
        severity="error",
        code="content.delivered",
        address="shop-android/promo",
        message="declare an override instead",
    )
    blocked = empty_plan.model_copy(update={"applyable": False, "diagnostics": (error,)})
    text = render_plan_text(blocked)
    assert "No changes. Live push tasks match the manifests." not in text
    assert "No changes planned: the errors above must be fixed first." in text
