"""Which CI a run is in when only some of its variables are set, and redaction of nested secrets."""

from __future__ import annotations

import pytest

from reconciler.state import provenance_from_env, redact


def test_github_is_recognised_by_github_actions_alone() -> None:
    found = provenance_from_env({"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat"})
    assert found.who.ci_actor == "octocat"
    assert found.where.ci_run_url is None  # no repository nor run id: no link to make
    assert found.why.pr is None  # and no GITHUB_REF


@pytest.mark.parametrize(
    "partial",
    [{"GITHUB_REPOSITORY": "acme/push-tasks"}, {"GITHUB_RUN_ID": "9876543210"}],
    ids=["repository-only", "run-only"],
)
def test_a_github_run_link_needs_both_repository_and_run_id(partial: dict[str, str]) -> None:
    found = provenance_from_env({"GITHUB_ACTIONS": "true", **partial})
    assert found.where.ci_run_url is None


def test_gitlab_is_recognised_by_gitlab_ci_alone() -> None:
    found = provenance_from_env(
        {"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "tanuki", "CI_COMMIT_SHA": "b" * 40}
    )
    assert (found.who.ci_actor, found.why.commit) == ("tanuki", "b" * 40)


def test_a_secret_inside_a_longer_one_never_leaves_the_longer_ones_ends() -> None:
    # Longest first, whatever their alphabetical order: "zz" first would leave "a***b".
    assert redact("key=azzb", ["zz", "azzb"]) == "key=***"
