"""Both envelope families, id types, wall times and task records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from reconciler.errors import ApiError, ConfigError
from reconciler.records import LiveStatus
from reconciler.tpns import envelope
from reconciler.tpns.errors import MalformedResponse, RateLimited

PATH = "/v3/statistics/get_push_record"
CST = timezone(timedelta(hours=8))

#: The single-task sample of reference section 5.1 (pushId as a JSON number).
SAMPLE_RECORD: dict[str, Any] = {
    "pushId": 133703,
    "title": "test title",
    "content": "test content",
    "status": "PUSH_FINISHED",
    "pushType": "tag",
    "messageType": "notify",
    "environment": "product",
    "expireTime": 86400,
    "xgMediaResources": "",
    "multiPkg": False,
    "targetList": None,
    "collapseID": 0,
    "tagSet": {"op": "OR", "tagWithType": [{"tagTypeName": "xg_user_define", "tagValue": "t"}]},
    "uploadId": 0,
    "pushConfig": {"android": None, "ios": None},
    "date": "2026-11-21 09:30:00",
}


@pytest.mark.parametrize(
    "reply",
    [
        {"seq": 0, "ret_code": 0, "err_msg": "", "push_id": "3895624686"},
        {"retCode": 0, "errMsg": "NO_ERROR"},
        {"retCode": "0", "ErrMsg": "success"},
        {"ret_code": 0},
    ],
)
def test_success_in_either_family(reply: dict[str, Any]) -> None:
    envelope.check(reply, path=PATH)


@pytest.mark.parametrize(
    "reply",
    [
        {"ret_code": 1008028, "err_msg": "request too fast"},
        {"retCode": 1008028, "errMsg": "request too fast"},
        {"retCode": "1008028", "errMsg": "request too fast"},
    ],
)
def test_error_in_either_family(reply: dict[str, Any]) -> None:
    with pytest.raises(RateLimited, match="request too fast"):
        envelope.check(reply, path=PATH)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"<html>", "not JSON"),
        (b"[1, 2]", "JSON list"),
        (b'{"result": "x"}', "without ret_code or retCode"),
        (b'{"ret_code": "abc"}', "non-numeric return code"),
    ],
)
def test_malformed_bodies(content: bytes, what: str) -> None:
    with pytest.raises(MalformedResponse, match=what):
        envelope.check(envelope.decode(content, path=PATH), path=PATH)


@pytest.mark.parametrize(
    ("push_id", "expected"),
    [("3895624686", ("3895624686",)), (427184209, ("427184209",)), (["1", 2], ("1", "2"))],
)
def test_push_result_ids(push_id: object, expected: tuple[str, ...]) -> None:
    reply = {"ret_code": 0, "push_id": push_id}
    result = envelope.push_result(reply, path="/v3/push/app")
    assert result.push_ids == expected
    assert result.push_id == expected[0]
    assert result.raw == reply


@pytest.mark.parametrize("push_id", [None, "", [], True, 1.5])
def test_push_result_without_usable_id(push_id: object) -> None:
    with pytest.raises(MalformedResponse):
        envelope.push_result({"ret_code": 0, "push_id": push_id}, path="/v3/push/app")


def test_live_task_from_the_documented_sample() -> None:
    task = envelope.live_task(SAMPLE_RECORD, zone=CST, path=PATH)
    assert task.push_id == "133703"
    assert task.status is LiveStatus.FINISHED
    assert task.date == datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    assert task.date.utcoffset() == timedelta(hours=8)
    assert (task.push_type, task.message_type) == ("tag", "notify")
    assert (task.title, task.content, task.environment) == ("test title", "test content", "product")
    assert (task.expire_time, task.collapse_id) == (86400, 0)
    # Only the fields pushctl reads beyond the normalised ones are kept.
    assert task.raw == {
        "targetList": None,
        "tagSet": SAMPLE_RECORD["tagSet"],
        "uploadId": 0,
        "pushConfig": {"android": None, "ios": None},
        "date": "2026-11-21 09:30:00",
    }
    sourced = envelope.live_task({**SAMPLE_RECORD, "source": "api"}, zone=CST, path=PATH)
    assert sourced.raw["source"] == "api"


def test_live_task_string_id_and_collapse_id() -> None:
    record = {**SAMPLE_RECORD, "pushId": "42", "collapseID": 7, "status": "PUSH_WAIT"}
    task = envelope.live_task(record, zone=CST, path=PATH)
    assert (task.push_id, task.collapse_id, task.status) == ("42", 7, LiveStatus.WAIT)


@pytest.mark.parametrize("status", [s.value for s in LiveStatus])
def test_every_status(status: str) -> None:
    record = {**SAMPLE_RECORD, "status": status}
    assert envelope.live_task(record, zone=CST, path=PATH).status.value == status


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ({"status": "PUSH_EXPLODED"}, "unknown task status"),
        ({"date": "2026-11-21T09:30:00"}, "not of the form"),
        ({"date": "2026-11-21 09:30:00.5"}, "not of the form"),
        ({"date": "2026-11-21 09:30"}, "not of the form"),
        ({"date": "2026-13-21 09:30:00"}, "not of the form"),
        ({"date": "2026-02-30 09:30:00"}, "not of the form"),
        ({"date": "2026-11-21 24:00:00"}, "not of the form"),
        ({"date": "2026-11-21 09:30:00 "}, "not of the form"),
        ({"date": "\uff12026-11-21 09:30:00"}, "not of the form"),
        ({"date": None}, "not a string"),
        ({"expireTime": "soon"}, "non-numeric expireTime"),
        ({"pushId": None}, "push id"),
    ],
)
def test_bad_records(change: dict[str, Any], what: str) -> None:
    with pytest.raises(MalformedResponse, match=what):
        envelope.live_task({**SAMPLE_RECORD, **change}, zone=CST, path=PATH)


def test_records_accepts_null_and_rejects_non_arrays() -> None:
    assert envelope.records({"retCode": 0, "pushRecordData": None}, path=PATH) == []
    with pytest.raises(MalformedResponse):
        envelope.records({"retCode": 0, "pushRecordData": {"a": 1}}, path=PATH)


@pytest.mark.parametrize(("text", "hours"), [("+08:00", 8.0), ("-05:30", -5.5), ("+00:00", 0.0)])
def test_utc_offsets(text: str, hours: float) -> None:
    zone = envelope.parse_utc_offset(text)
    assert zone.utcoffset(None) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["8", "+8:00", "UTC+8", "+24:00", "+08:60"])
def test_bad_utc_offsets(text: str) -> None:
    with pytest.raises(ConfigError, match="utc_offset"):
        envelope.parse_utc_offset(text)


def test_api_error_is_raised_not_malformed() -> None:
    with pytest.raises(ApiError) as caught:
        envelope.check({"retCode": 1008015, "errMsg": "push id not exist"}, path=PATH)
    assert caught.value.code == 1008015


#: A real /v3/push/app answer, as recorded in the official PHP SDK's source.
REAL_PUSH_ANSWER = (
    b'{"seq":0,"push_id":"572728156","ret_code":0,"environment":"product","err_msg":"NO_ERROR",'
    b'"err_msg_zh":"","result":"{}","invalid_targe_list":[]}'
)


def test_the_real_push_answer_is_a_success() -> None:
    reply = envelope.decode(REAL_PUSH_ANSWER, path="/v3/push/app")
    envelope.check(reply, path="/v3/push/app")
    result = envelope.push_result(reply, path="/v3/push/app")
    assert (result.push_id, result.push_ids) == ("572728156", ("572728156",))


def test_the_real_answer_of_a_loop_push_lists_every_id() -> None:
    content = REAL_PUSH_ANSWER.replace(b'"572728156"', b'["572728156","572728157"]')
    reply = envelope.decode(content, path="/v3/push/app")
    envelope.check(reply, path="/v3/push/app")
    assert envelope.push_result(reply, path="/v3/push/app").push_ids == ("572728156", "572728157")
