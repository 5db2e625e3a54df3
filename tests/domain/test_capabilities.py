"""What TPNS accepts per audience type and platform, the refusal text, and the status rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.domain.capabilities import (
    DEFAULT_EXPIRE_SECONDS,
    Refusal,
    audience_type_of,
    can_cancel,
    can_override,
    can_recall,
    can_schedule,
    can_stop,
    cancel_refusal,
    has_started,
    is_scheduled,
    offline_window_open,
    override_refusal,
    recall_refusal,
    stop_refusal,
)
from reconciler.domain.manifest.models import AppConfig
from reconciler.records import LiveStatus, LiveTask

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ALL_AUDIENCES = (
    "all",
    "tag",
    "token",
    "token_list",
    "account",
    "account_list",
    "package_account_push",
    "package_token_push",
)


def _app(platform: str = "android", *, recall: bool = False) -> AppConfig:
    return AppConfig.model_validate(
        {
            "accessId": "1500001048",
            "platform": platform,
            "region": "ap-guangzhou",
            "secretKeyEnv": "TPNS_SECRET",
            "capabilities": {"recall": recall},
        }
    )


ANDROID, IOS = _app("android", recall=True), _app("ios", recall=True)


def _task(status: LiveStatus, date: datetime, *, expire_time: int = 0) -> LiveTask:
    return LiveTask(
        push_id="42",
        status=status,
        date=date,
        push_type="tag",
        message_type="notify",
        expire_time=expire_time,
    )


@pytest.mark.parametrize("audience", ALL_AUDIENCES)
def test_only_broadcast_and_tag_audiences_are_scheduled_cancelled_or_overridden(
    audience: str,
) -> None:
    schedulable = audience in {"all", "tag", "package_account_push"}
    assert (can_schedule(audience) is None) is schedulable
    assert (can_cancel(audience) is None) is schedulable
    assert (can_override(audience) is None) is schedulable
    assert (cancel_refusal(audience) is None) is schedulable
    assert (override_refusal(audience) is None) is schedulable


@pytest.mark.parametrize("audience", ALL_AUDIENCES)
def test_android_stop_and_recall_accept_all_tag_account_list_and_package_accounts(
    audience: str,
) -> None:
    stoppable = audience in {"all", "tag", "account_list", "package_account_push"}
    assert (can_stop(ANDROID, audience) is None) is stoppable
    assert (can_recall(ANDROID, audience) is None) is stoppable
    assert (stop_refusal(ANDROID, audience) is None) is stoppable
    assert (recall_refusal(ANDROID, audience) is None) is stoppable


def test_a_refused_schedule_names_the_audiences_that_can_be() -> None:
    assert can_schedule("token") == (
        "audience_type 'token' cannot be scheduled; only all, tag and package_account_push"
    )


@pytest.mark.parametrize(
    ("refusal", "code", "message"),
    [
        (
            cancel_refusal("account"),
            "cancel.audience",
            "audience_type 'account' cannot be cancelled; "
            "only all, tag and package_account_push tasks are scheduled",
        ),
        (
            override_refusal("token_list"),
            "override.audience",
            "audience_type 'token_list' has no collapse id and cannot be overridden; "
            "only all, tag and package_account_push; declare `state: stopped` instead",
        ),
        (
            stop_refusal(ANDROID, "token"),
            "stop.audience",
            "audience_type 'token' cannot be terminated; "
            "only all, tag, account_list and package_account_push",
        ),
        (
            recall_refusal(ANDROID, "account"),
            "recall.audience",
            "audience_type 'account' cannot be recalled; "
            "only all, tag, account_list and package_account_push",
        ),
        (
            stop_refusal(IOS, "all"),
            "stop.ios",
            "TPNS cannot terminate tasks of iOS apps; declare an override or leave it active",
        ),
    ],
    ids=["cancel", "override", "stop", "recall", "stop-ios"],
)
def test_refusals_name_what_is_allowed_and_what_to_declare_instead(
    refusal: Refusal | None, code: str, message: str
) -> None:
    assert refusal == Refusal(code, message)


def test_recall_is_refused_for_every_audience_until_the_app_enables_it() -> None:
    disabled = _app("android", recall=False)
    expected = (
        "recall is offline at TPNS and not enabled for this app "
        "(capabilities.recall in pushctl.yaml); declare `state: stopped` or an override"
    )
    for audience in ALL_AUDIENCES:
        refusal = recall_refusal(disabled, audience)
        assert refusal is not None
        assert (refusal.code, refusal.message) == ("recall.unavailable", expected)


def test_ios_apps_may_be_recalled_though_never_stopped() -> None:
    assert recall_refusal(IOS, "tag") is None
    refusal = stop_refusal(IOS, "tag")
    assert refusal is not None
    assert refusal.code == "stop.ios"


@pytest.mark.parametrize("status", [LiveStatus.INIT, LiveStatus.WAIT])
def test_a_task_not_dispatched_is_scheduled_until_its_date_and_started_from_it(
    status: LiveStatus,
) -> None:
    later = _task(status, NOW + timedelta(seconds=1))
    due = _task(status, NOW)
    assert is_scheduled(later, NOW)
    assert not has_started(later, NOW)
    assert not is_scheduled(due, NOW)
    assert has_started(due, NOW)


@pytest.mark.parametrize(
    "status",
    [s for s in LiveStatus if s not in {LiveStatus.INIT, LiveStatus.WAIT}],
)
def test_a_dispatched_or_settled_task_is_never_scheduled(status: LiveStatus) -> None:
    task = _task(status, NOW + timedelta(hours=1))
    assert not is_scheduled(task, NOW)
    assert has_started(task, NOW) is (status in {LiveStatus.STARTED, LiveStatus.FINISHED})


def test_a_finished_task_can_be_stopped_until_its_offline_window_closes() -> None:
    sent = NOW - timedelta(seconds=600)
    assert offline_window_open(_task(LiveStatus.FINISHED, sent, expire_time=601), NOW)
    assert not offline_window_open(_task(LiveStatus.FINISHED, sent, expire_time=600), NOW)


def test_a_finished_task_without_expire_time_keeps_tpns_default_window() -> None:
    assert DEFAULT_EXPIRE_SECONDS == 86400
    just_inside = NOW - timedelta(seconds=86399)
    at_the_end = NOW - timedelta(seconds=86400)
    assert offline_window_open(_task(LiveStatus.FINISHED, just_inside), NOW)
    assert not offline_window_open(_task(LiveStatus.FINISHED, at_the_end), NOW)


def test_offline_window_of_other_statuses_follows_whether_delivery_started() -> None:
    assert offline_window_open(_task(LiveStatus.STARTED, NOW + timedelta(hours=1)), NOW)
    assert offline_window_open(_task(LiveStatus.WAIT, NOW), NOW)
    assert not offline_window_open(_task(LiveStatus.WAIT, NOW + timedelta(seconds=1)), NOW)
    assert not offline_window_open(_task(LiveStatus.CANCELED, NOW - timedelta(hours=1)), NOW)


def test_audience_type_is_the_declared_one_else_the_reported_push_type() -> None:
    live = _task(LiveStatus.FINISHED, NOW)
    assert audience_type_of({"audience_type": "account"}, live) == "account"
    assert audience_type_of({"audience_type": "account"}, None) == "account"
    assert audience_type_of({"audience_type": ""}, live) == "tag"
    assert audience_type_of({"title": "x"}, live) == "tag"
    assert audience_type_of(None, live) == "tag"
    assert audience_type_of({}, None) == ""
    assert audience_type_of(None, None) == ""
