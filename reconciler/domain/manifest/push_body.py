"""Field-by-field validation of `spec.push`, the /v3/push/app body (reference section 4).

The strict models in push_models.py check each field; the rules here check what fields need
each other (audience types, message types, scheduling). Every problem carries its path inside
`push`, so the loader can point at the line and column.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, NamedTuple, get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from reconciler.domain.manifest.hints import describe, dotted
from reconciler.domain.manifest.push_models import AudienceType, LoopParam, Message, PushBody


class PushBodyProblem(NamedTuple):
    path: tuple[str | int, ...]
    message: str


class PushBodyError(ValueError):
    """Every problem of one push body; a ValueError so pydantic validators can raise it."""

    def __init__(self, problems: list[PushBodyProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{dotted('push', p.path)}: {p.message}" for p in problems))


#: Fields pushctl adds itself, with what to declare instead.
REFUSED_FIELDS = {
    "collapse_id": "pushctl sets `collapse_id` itself; to replace an earlier task declare "
    "`state: overridden` and `overriddenBy` on that task",
    "force_collapse": "pushctl sets `force_collapse` itself; write `spec.forceCollapse: true`",
}

AUDIENCES = frozenset(get_args(AudienceType))
SCHEDULABLE = frozenset({"all", "tag", "package_account_push"})
#: Fields that only some audience types accept (reference sections 4.2, 4.8, 9).
AUDIENCE_FIELDS: dict[str, frozenset[str]] = {
    "tag_rules": frozenset({"tag"}),
    "tag_list": frozenset({"tag"}),
    "token_list": frozenset({"token", "token_list"}),
    "account_list": frozenset({"account", "account_list"}),
    "upload_id": frozenset({"package_account_push", "package_token_push"}),
    "send_time": SCHEDULABLE,
    "loop_param": SCHEDULABLE,
    "push_speed": SCHEDULABLE,
    "ignore_invalid_token": frozenset({"token", "token_list"}),
    "account_push_type": frozenset({"account", "account_list", "package_account_push"}),
    "account_type": frozenset({"account", "account_list", "package_account_push"}),
}
#: The field each audience type cannot do without.
AUDIENCE_NEEDS = {
    "token": "token_list",
    "token_list": "token_list",
    "account": "account_list",
    "account_list": "account_list",
    "package_account_push": "upload_id",
    "package_token_push": "upload_id",
}
#: Account types of reference section 4.8 (1024/40598).
ACCOUNT_TYPES = frozenset({0, *range(1, 17), 991, 992, 997, 998, 999, *range(1002, 1016)})

_ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
)
_TPNS_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2})?)$")
#: The years a send_time may name before the planner compares it with the clock.
SEND_TIME_YEARS = range(2000, 3000)
_LOOP_DAYS = {1: range(0, 1), 2: range(0, 7), 3: range(1, 32)}


def validate_push_body(body: dict[str, Any]) -> dict[str, Any]:
    """Return the body unchanged when valid; raise PushBodyError naming every bad field."""
    if not isinstance(body, dict):
        raise PushBodyError([PushBodyProblem((), "`push` must be a mapping of TPNS fields")])
    problems = [PushBodyProblem((k,), hint) for k, hint in REFUSED_FIELDS.items() if k in body]
    checked = {key: value for key, value in body.items() if key not in REFUSED_FIELDS}
    try:
        model = PushBody.model_validate(checked)
    except ValidationError as exc:
        errors = _one_error_per_typo(exc.errors(include_url=False))
        problems += [PushBodyProblem(tuple(e["loc"]), describe(e, PushBody)) for e in errors]
    else:
        problems += _model_rules(model)
    # These read only the raw keys, so they also run when a field elsewhere is invalid.
    audience = checked.get("audience_type")
    if isinstance(audience, str) and audience in AUDIENCES:
        problems += _audience_rules(audience, checked)
    if isinstance(checked.get("send_time"), str):
        problems += _send_time_rules(checked["send_time"])
    if problems:
        raise PushBodyError(problems)
    return body


def _one_error_per_typo(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "X is required" when a misspelt key beside it is X: its did-you-mean says it all."""
    misspelt: set[tuple[Any, ...]] = set()
    for error in errors:
        if error["type"] != "extra_forbidden" or not error["loc"]:
            continue
        *parent, key = error["loc"]
        missing = [
            e["loc"][-1]
            for e in errors
            if e["type"] == "missing" and e["loc"][:-1] == tuple(parent)
        ]
        for match in difflib.get_close_matches(str(key), [str(m) for m in missing], n=1):
            misspelt.add((*parent, match))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in misspelt)]


def _model_rules(body: PushBody) -> Iterator[PushBodyProblem]:
    if body.loop_param is not None:
        yield from _loop_rules(body.loop_param)
    if body.account_type is not None and body.account_type not in ACCOUNT_TYPES:
        yield PushBodyProblem(
            ("account_type",),
            f"unknown account_type {body.account_type}; use 0 (default), 1-16 (custom) or a "
            "TPNS account type such as 1002 (mobile) or 1005 (email)",
        )
    yield from _message_rules(body)


def _audience_rules(audience: str, raw: dict[str, Any]) -> Iterator[PushBodyProblem]:
    for field, audiences in AUDIENCE_FIELDS.items():
        if field in raw and audience not in audiences:
            allowed = ", ".join(sorted(audiences))
            yield PushBodyProblem(
                (field,),
                f"`{field}` is not allowed with audience_type {audience}; "
                f"only with {allowed}; remove it or change audience_type",
            )
    needed = AUDIENCE_NEEDS.get(audience)
    if needed is not None and needed not in raw:
        yield PushBodyProblem((needed,), f"audience_type {audience} needs `{needed}`; add it")
    if audience == "tag" and "tag_rules" not in raw and "tag_list" not in raw:
        yield PushBodyProblem(
            ("tag_rules",), "audience_type tag needs `tag_rules` (or the legacy `tag_list`); add it"
        )
    field = f"{audience}_list"
    single = raw.get(field) if audience in ("token", "account") else None
    if isinstance(single, list) and len(single) > 1:
        yield PushBodyProblem(
            (field,),
            f"audience_type {audience} sends to the first entry only; "
            f"write `audience_type: {field}` to reach all {len(single)}",
        )


def _send_time_rules(send_time: str) -> Iterator[PushBodyProblem]:
    path = ("send_time",)
    tpns_form = _TPNS_TIME.match(send_time)
    if tpns_form is not None:
        wall = tpns_form.group(2) + ("" if tpns_form.group(3) else ":00")
        yield PushBodyProblem(
            path,
            f"send_time needs ISO 8601 with a UTC offset; write "
            f'"{tpns_form.group(1)}T{wall}+08:00" (pushctl converts it to TPNS wall time)',
        )
        return
    if not _ISO_WITH_OFFSET.match(send_time):
        yield PushBodyProblem(
            path, 'send_time must be ISO 8601 with a UTC offset, e.g. "2026-12-01T09:00:00+08:00"'
        )
        return
    try:
        moment = datetime.fromisoformat(send_time)
    except ValueError as exc:
        yield PushBodyProblem(path, f"send_time is not a real date and time: {exc}")
        return
    if not SEND_TIME_YEARS.start <= moment.year < SEND_TIME_YEARS.stop:
        # The 90-day limit needs a clock (the planner checks it); this bound needs none and
        # keeps time-zone arithmetic on send_time inside what datetime can hold.
        yield PushBodyProblem(
            path,
            f"send_time year {moment.year} is out of range ({SEND_TIME_YEARS.start}-"
            f"{SEND_TIME_YEARS.stop - 1}); TPNS takes send_time at most 90 days ahead",
        )


def _loop_rules(loop: LoopParam) -> Iterator[PushBodyProblem]:
    dates: list[date] = []
    for key, text in (("startDate", loop.start_date), ("endDate", loop.end_date)):
        try:
            dates.append(date.fromisoformat(text))
        except ValueError:
            yield PushBodyProblem(("loop_param", key), f"{text!r} is not a date; write YYYY-MM-DD")
    if len(dates) == 2 and dates[0] > dates[1]:
        yield PushBodyProblem(("loop_param", "endDate"), "endDate is before startDate")
    allowed = _LOOP_DAYS[loop.loop_type]
    for index, day in enumerate(loop.loop_day_indexes):
        if day not in allowed:
            yield PushBodyProblem(
                ("loop_param", "loopDayIndexs", index),
                f"day {day} is out of range for loopType {loop.loop_type}; "
                f"use {allowed.start}..{allowed.stop - 1}",
            )


def _message_rules(body: PushBody) -> Iterator[PushBodyProblem]:
    message = body.message
    ios_silent = body.message_type == "message" and message.ios is not None
    if not ios_silent:
        for field in ("title", "content"):
            if getattr(message, field) is None:
                yield PushBodyProblem(("message", field), f"`message.{field}` is required; add it")
    if message.thread_sumtext is not None and message.thread_id is None:
        yield PushBodyProblem(("message", "thread_sumtext"), "thread_sumtext needs `thread_id`")
    if message.ios is not None and body.environment is None:
        yield PushBodyProblem(
            ("environment",), "an iOS push needs `environment: product` (or `dev`); add it"
        )
    yield from _android_rules(message)
    yield from _ios_rules(message, silent=ios_silent)


def _android_rules(message: Message) -> Iterator[PushBodyProblem]:
    android = message.android
    if android is None:
        return
    if android.custom_content is not None:
        yield from _json_object(("message", "android", "custom_content"), android.custom_content)
    action = android.action
    if action is None:
        return
    needs = {2: "browser", 3: "intent"}.get(action.action_type or 1)
    if needs is not None and getattr(action, needs) is None:
        yield PushBodyProblem(
            ("message", "android", "action", needs),
            f"action_type {action.action_type} needs `{needs}`; add it",
        )


def _ios_rules(message: Message, *, silent: bool) -> Iterator[PushBodyProblem]:
    ios = message.ios
    if ios is None:
        return
    if ios.custom_content is not None:
        yield from _json_object(("message", "ios", "custom_content"), ios.custom_content)
    aps_path = ("message", "ios", "aps")
    if silent and ios.aps.content_available != 1:
        yield PushBodyProblem(
            (*aps_path, "content-available"), "an iOS silent message needs `content-available: 1`"
        )
    if silent:
        for field, value in (("alert", ios.aps.alert), ("sound", ios.aps.sound)):
            if value is not None:
                yield PushBodyProblem(
                    (*aps_path, field), f"an iOS silent message cannot carry `{field}`; remove it"
                )
        if ios.aps.badge_type is not None:
            yield PushBodyProblem((*aps_path, "badge_type"), "a silent message cannot set badge")
    elif ios.aps.content_available is not None:
        yield PushBodyProblem(
            (*aps_path, "content-available"),
            "`content-available` is for `message_type: message` only; remove it from a notify push",
        )


def _json_object(path: tuple[str, ...], text: str) -> Iterator[PushBodyProblem]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        yield PushBodyProblem(
            path,
            f"`{path[-1]}` must be a JSON object written as a string, "
            """e.g. '{"key": "value"}'""",
        )
