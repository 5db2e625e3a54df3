"""Pure parts of the audit module: chain verification, redaction, provenance from CI env."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.state import Provenance, What, Where, Who, Why, provenance_from_env, redact
from reconciler.state.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRow,
    canonical_json,
    chain_row,
    record_hash,
)
from reconciler.state.audit_verify import verify_chain


def chain(count: int) -> list[AuditRow]:
    rows: list[AuditRow] = []
    for n in range(count):
        entry = AuditEntry(
            kind="state",
            run_id=f"run-{n}",
            who=Who(user="alice"),
            where=Where(host="h"),
            why=Why(),
            what=What(action="rm", address=f"app/t{n}"),
            when=datetime(2026, 1, 1, tzinfo=UTC),
        )
        rows.append(chain_row(entry, seq=n + 1, prev_hash=rows[-1].hash if rows else GENESIS_HASH))
    return rows


def head(rows: list[AuditRow]) -> tuple[int, str]:
    return len(rows), rows[-1].hash


def test_canonical_json_is_sorted_compact_and_utf8() -> None:
    assert (
        canonical_json({"b": 1, "a": {"d": "é", "c": [1, 2]}}) == '{"a":{"c":[1,2],"d":"é"},"b":1}'
    )


def test_an_intact_chain_verifies() -> None:
    rows = chain(3)

    assert verify_chain(rows, head=head(rows)).ok
    assert verify_chain([], head=(0, GENESIS_HASH)).ok


def test_a_record_rewritten_with_a_fresh_hash_is_caught_at_the_next_link() -> None:
    rows = chain(3)
    forged_body = rows[1].body.replace("alice", "mallory")
    rows[1] = rows[1].model_copy(
        update={"body": forged_body, "hash": record_hash(rows[1].prev_hash, forged_body)}
    )

    verdict = verify_chain(rows, head=None)

    assert (verdict.first_bad_seq, verdict.problem) == (2, "changed")
    assert verdict.detail == "record 2 was rewritten: record 3 no longer links to it"


def test_removing_the_first_record_is_caught() -> None:
    rows = chain(3)[1:]

    verdict = verify_chain(rows, head=None)

    assert (verdict.first_bad_seq, verdict.problem) == (1, "removed")
    assert verdict.detail == "record 1 is missing (next: 2)"


def test_renumbering_to_hide_a_removal_is_caught() -> None:
    rows = chain(4)
    del rows[1]
    rows = [row.model_copy(update={"seq": n + 1}) for n, row in enumerate(rows)]

    verdict = verify_chain(rows, head=None)

    assert (verdict.first_bad_seq, verdict.problem) == (2, "removed")


def test_moving_the_last_record_first_is_reordering() -> None:
    rows = chain(3)
    moved = [rows[2], rows[0], rows[1]]
    moved = [row.model_copy(update={"seq": n + 1}) for n, row in enumerate(moved)]

    verdict = verify_chain(moved, head=None)

    assert (verdict.first_bad_seq, verdict.problem) == (1, "reordered")


def test_a_body_that_is_not_json_is_changed() -> None:
    rows = chain(2)
    rows[0] = rows[0].model_copy(
        update={"body": "[]", "hash": record_hash(rows[0].prev_hash, "[]")}
    )

    verdict = verify_chain(rows, head=None)

    assert (verdict.first_bad_seq, verdict.problem) == (1, "changed")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), size=st.integers(min_value=1, max_value=7))
def test_removing_any_one_record_is_reported_at_its_seq(data: st.DataObject, size: int) -> None:
    rows = chain(size)
    gone = data.draw(st.integers(min_value=0, max_value=size - 1))

    verdict = verify_chain(rows[:gone] + rows[gone + 1 :], head=head(rows))

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, gone + 1, "removed")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), size=st.integers(min_value=2, max_value=7))
def test_swapping_any_adjacent_pair_is_reported_as_reordered(
    data: st.DataObject, size: int
) -> None:
    rows = chain(size)
    i = data.draw(st.integers(min_value=0, max_value=size - 2))
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    renumbered = [row.model_copy(update={"seq": n + 1}) for n, row in enumerate(rows)]

    verdict = verify_chain(renumbered, head=head(chain(size)))

    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, i + 1, "reordered")


# -- redaction ---------------------------------------------------------------------------------


def test_redact_masks_secret_values_anywhere_and_credential_named_keys() -> None:
    request = {
        "audience_type": "all",
        "secretKey": "s3cr3t",
        "X-Signature": "abcdef",
        "headers": {"Authorization": "Basic eHh4", "trace": "sent with s3cr3t inside"},
        "list": [{"sign": "x"}, "s3cr3t", 7, None],
        "access_secret": "y",
        "assign_to": "growth",
        "design": "dark",
    }

    assert redact(request, ["s3cr3t", ""]) == {
        "audience_type": "all",
        "secretKey": "***",
        "X-Signature": "***",
        "headers": {"Authorization": "***", "trace": "sent with *** inside"},
        "list": [{"sign": "***"}, "***", 7, None],
        "access_secret": "***",
        "assign_to": "growth",
        "design": "dark",
    }
    assert request["secretKey"] == "s3cr3t"  # the input is left alone


def test_redact_replaces_the_longest_secret_first() -> None:
    assert redact("key=abcdef", ["abc", "abcdef"]) == "key=***"


# -- provenance --------------------------------------------------------------------------------

GITHUB_PR_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/push-tasks",
    "GITHUB_RUN_ID": "9876543210",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_REF": "refs/pull/17/merge",
    "USER": "runner",
}

GITLAB_MR_ENV = {
    "GITLAB_CI": "true",
    "GITLAB_USER_LOGIN": "tanuki",
    "CI_JOB_URL": "https://gitlab.example.com/acme/push-tasks/-/jobs/555",
    "CI_COMMIT_SHA": "b" * 40,
    "CI_MERGE_REQUEST_IID": "23",
}


def test_provenance_from_github_actions_on_a_pull_request() -> None:
    found = provenance_from_env(GITHUB_PR_ENV, local_host="fv-az123", local_commit="local")

    assert found == Provenance(
        who=Who(user="runner", ci_actor="octocat"),
        where=Where(
            host="fv-az123",
            ci_run_url="https://github.com/acme/push-tasks/actions/runs/9876543210",
        ),
        why=Why(commit="a" * 40, pr="17"),
    )


def test_github_push_has_no_pr_number() -> None:
    env = {**GITHUB_PR_ENV, "GITHUB_REF": "refs/heads/main"}

    assert provenance_from_env(env).why.pr is None


def test_provenance_from_gitlab_ci_on_a_merge_request() -> None:
    found = provenance_from_env(GITLAB_MR_ENV, local_user="gitlab-runner", local_host="box")

    assert found == Provenance(
        who=Who(user="gitlab-runner", ci_actor="tanuki"),
        where=Where(host="box", ci_run_url=GITLAB_MR_ENV["CI_JOB_URL"]),
        why=Why(commit="b" * 40, pr="23"),
    )


def test_outside_ci_the_caller_supplies_user_host_and_commit() -> None:
    found = provenance_from_env({}, local_user="dev", local_host="laptop", local_commit="c0ffee")

    assert found == Provenance(
        who=Who(user="dev"), where=Where(host="laptop"), why=Why(commit="c0ffee")
    )


@pytest.mark.parametrize(
    ("env", "user"),
    [({"USER": "u1"}, "u1"), ({"LOGNAME": "u2"}, "u2"), ({}, "unknown")],
)
def test_local_user_falls_back_to_the_environment(env: dict[str, str], user: str) -> None:
    found = provenance_from_env(env)

    assert (found.who.user, found.where.host, found.why.commit) == (user, "unknown", None)


def test_provenance_serialises_as_plain_json() -> None:
    found = provenance_from_env(GITLAB_MR_ENV, local_user="u", local_host="h")

    assert json.loads(found.model_dump_json())["why"]["pr"] == "23"
