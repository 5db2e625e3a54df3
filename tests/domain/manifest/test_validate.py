"""validate_tasks: apps, names, overrides, state fields, capabilities and platforms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.domain.manifest.config import load_config
from reconciler.domain.manifest.loader import load_manifests
from reconciler.domain.manifest.models import DeclaredTask, PushctlConfig, PushTask
from reconciler.domain.manifest.validate import VALIDATION_CODES, validate_tasks
from reconciler.domain.plan import Diagnostic

TAG_PUSH = {
    "audience_type": "tag",
    "tag_list": {"tags": ["vip"], "op": "OR"},
    "message_type": "notify",
    "message": {"title": "Sale", "content": "Today only"},
}
TOKEN_PUSH = {**TAG_PUSH, "audience_type": "token_list", "token_list": ["t1"]}
TOKEN_PUSH.pop("tag_list")
IOS_PUSH = {
    "audience_type": "all",
    "message_type": "notify",
    "environment": "product",
    "message": {"title": "Hi", "content": "There", "ios": {"aps": {"sound": "default"}}},
}


@pytest.fixture
def config(fixtures_dir: Path) -> PushctlConfig:
    return load_config(fixtures_dir / "pushctl.yaml")


@pytest.fixture
def recall_config(config: PushctlConfig) -> PushctlConfig:
    raw = config.model_dump(mode="json", by_alias=True)
    raw["apps"]["shop-android"]["capabilities"] = {"recall": True}
    return PushctlConfig.model_validate(raw)


def declared(document: dict[str, Any], *, line: int = 1) -> DeclaredTask:
    return DeclaredTask(task=PushTask.model_validate(document), file="m.yaml", line=line)


def codes(diagnostics: list[Diagnostic]) -> list[tuple[str, str]]:
    return [(d.address, d.code) for d in diagnostics]


def test_the_sample_tree_is_clean(fixtures_dir: Path, config: PushctlConfig) -> None:
    tasks = load_manifests([fixtures_dir / "manifests"])
    assert validate_tasks(tasks, config) == []


def test_unknown_app_suggests_the_closest(make_task: Any, config: PushctlConfig) -> None:
    (found,) = validate_tasks([declared(make_task("a", app="shop-andriod"), line=7)], config)
    assert found == Diagnostic(
        severity="error",
        code="app.unknown",
        address="shop-andriod/a",
        file="m.yaml",
        line=7,
        column=1,
        message="app 'shop-andriod' is not in pushctl.yaml `apps`; did you mean `shop-android`?",
    )


def test_unknown_app_far_from_any_lists_the_apps(make_task: Any, config: PushctlConfig) -> None:
    (found,) = validate_tasks([declared(make_task("a", app="zzz"))], config)
    assert found.message.endswith("known apps: shop-android, shop-ios")


def test_duplicate_names_per_app(make_task: Any, config: PushctlConfig) -> None:
    tasks = [
        declared(make_task("a"), line=1),
        declared(make_task("a"), line=20),
        declared(make_task("a", app="shop-ios", push=IOS_PUSH)),
    ]
    (found,) = validate_tasks(tasks, config)
    assert (found.code, found.line) == ("task.duplicate", 20)
    assert "already declared at m.yaml:1:1" in found.message


def test_override_target_must_exist_in_the_same_app(make_task: Any, config: PushctlConfig) -> None:
    tasks = [
        declared(make_task("old", state="overridden", overriddenBy="new", push=TAG_PUSH)),
        declared(make_task("new", app="shop-ios", push=IOS_PUSH)),
    ]
    (found,) = validate_tasks(tasks, config)
    assert (found.address, found.code) == ("shop-android/old", "override.unknown-target")
    assert "declare shop-android/new" in found.message


def test_override_cycle_is_reported_once_with_its_path(
    make_task: Any, config: PushctlConfig
) -> None:
    tasks = [
        declared(make_task("a", state="overridden", overriddenBy="b", push=TAG_PUSH)),
        declared(make_task("b", state="overridden", overriddenBy="c", push=TAG_PUSH)),
        declared(make_task("c", state="overridden", overriddenBy="b", push=TAG_PUSH)),
    ]
    (found,) = validate_tasks(tasks, config)
    assert (found.address, found.code) == ("shop-android/b", "override.cycle")
    assert "shop-android/b -> shop-android/c -> shop-android/b" in found.message


def test_self_override_is_a_cycle(make_task: Any, config: PushctlConfig) -> None:
    tasks = [declared(make_task("a", state="overridden", overriddenBy="a", push=TAG_PUSH))]
    assert codes(validate_tasks(tasks, config)) == [("shop-android/a", "override.cycle")]


@pytest.mark.parametrize("state", ["cancelled", "recalled"])
def test_overriding_task_must_not_be_cancelled_or_recalled(
    make_task: Any, recall_config: PushctlConfig, state: str
) -> None:
    new_push = {**TAG_PUSH, "send_time": "2026-12-01T09:00:00+08:00"}
    tasks = [
        declared(make_task("old", state="overridden", overriddenBy="new", push=TAG_PUSH)),
        declared(make_task("new", state=state, push=new_push)),
    ]
    assert codes(validate_tasks(tasks, recall_config)) == [
        ("shop-android/old", "override.target-inactive")
    ]


def test_force_collapse_without_an_override_is_a_warning(
    make_task: Any, config: PushctlConfig
) -> None:
    (found,) = validate_tasks([declared(make_task("a", forceCollapse=True))], config)
    assert (found.severity, found.code) == ("warning", "override.force-collapse-unused")


def test_cancelled_needs_a_scheduled_push(make_task: Any, config: PushctlConfig) -> None:
    tasks = [
        declared(make_task("a", state="cancelled", push=TAG_PUSH)),
        declared(make_task("b", state="cancelled", pushId="42", push=None)),
    ]
    assert codes(validate_tasks(tasks, config)) == [("shop-android/a", "state.cancel-unscheduled")]


@pytest.mark.parametrize(
    "case",
    [
        ("shop-ios", "stopped", IOS_PUSH, "capability.stop", "cannot terminate tasks of iOS"),
        ("shop-android", "stopped", TOKEN_PUSH, "capability.stop", "'token_list' cannot be"),
        ("shop-android", "recalled", TAG_PUSH, "capability.recall", "recall is offline"),
        ("shop-android", "overridden", TOKEN_PUSH, "capability.override", "no collapse id"),
    ],
)
def test_capabilities(
    make_task: Any, config: PushctlConfig, case: tuple[str, str, dict[str, Any], str, str]
) -> None:
    app, state, push, code, fragment = case
    extra = {"overriddenBy": "new"} if state == "overridden" else {}
    tasks = [declared(make_task("a", app=app, state=state, push=push, **extra))]
    if state == "overridden":
        tasks.append(declared(make_task("new", app=app, push=TAG_PUSH)))
    found = [d for d in validate_tasks(tasks, config) if d.code == code]
    assert len(found) == 1
    assert fragment in found[0].message
    assert found[0].message.startswith(f"state: {state} is not possible: ")


def test_recall_where_enabled_and_audience_allows(
    make_task: Any, recall_config: PushctlConfig
) -> None:
    ok = declared(make_task("ok", state="recalled", push=TAG_PUSH))
    token = declared(make_task("tok", state="recalled", push=TOKEN_PUSH))
    assert codes(validate_tasks([ok, token], recall_config)) == [
        ("shop-android/tok", "capability.recall")
    ]


def test_cancel_of_an_unschedulable_audience(make_task: Any, config: PushctlConfig) -> None:
    tasks = [declared(make_task("a", state="cancelled", push=TOKEN_PUSH))]
    assert codes(validate_tasks(tasks, config)) == [
        ("shop-android/a", "capability.cancel"),
        ("shop-android/a", "state.cancel-unscheduled"),
    ]


def test_ios_app_needs_environment_and_no_android_fields(
    make_task: Any, config: PushctlConfig
) -> None:
    push = {
        "audience_type": "all",
        "message_type": "notify",
        "message": {"title": "t", "content": "c", "android": {}, "accept_time": []},
    }
    found = validate_tasks([declared(make_task("a", app="shop-ios", push=push))], config)
    assert [(d.code, d.message) for d in found] == [
        (
            "platform.android-field",
            "push.message.accept_time does not apply to a ios app; remove it",
        ),
        ("platform.android-field", "push.message.android does not apply to a ios app; remove it"),
        ("platform.environment", "app is an iOS app: add `push.environment: product` (or `dev`)"),
    ]


def test_android_app_with_ios_fields(make_task: Any, config: PushctlConfig) -> None:
    found = validate_tasks([declared(make_task("a", push=IOS_PUSH))], config)
    assert codes(found) == [("shop-android/a", "platform.ios-field")]


def test_adopted_task_without_push_skips_content_checks(
    make_task: Any, config: PushctlConfig
) -> None:
    tasks = [declared(make_task("a", app="shop-ios", state="stopped", pushId="9", push=None))]
    assert validate_tasks(tasks, config) == []


def test_every_code_used_is_documented() -> None:
    assert all(code.count(".") == 1 for code in VALIDATION_CODES)
    assert all(meaning for meaning in VALIDATION_CODES.values())
