"""The business operations behind each API path, run inside one store transaction.

Each function takes the authenticated app and the parsed request, and returns the success payload
(without the envelope's code/message) or raises `Refusal`. State is written only after every check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.emulator.envelopes import push_result
from reconciler.emulator.lifecycle import (
    COLLAPSIBLE,
    TaskRow,
    check_cancel,
    check_revoke,
    check_stop,
    within_horizon,
)
from reconciler.emulator.push_rules import BROADCAST_AUDIENCES, PushOrder, is_unset, validate_push
from reconciler.emulator.record_view import parse_range_query, push_record
from reconciler.emulator.refusals import (
    INVALID_PARAMETER,
    MISSING_PARAMETER,
    PUSH_ID_NOT_EXIST,
    PUSH_REPEAT,
    TOO_FAST,
    Refusal,
)
from reconciler.emulator.settings import AppSpec, EmulatorSettings
from reconciler.emulator.store import EmulatorStore
from reconciler.emulator.uploads import check_package, read_package

PUSH_ID_KEYS = ("pushId", "pushid", "push_id")


@dataclass(frozen=True)
class CallContext:
    """What every operation needs besides the request."""

    store: EmulatorStore
    settings: EmulatorSettings
    app: AppSpec
    now: datetime

    @property
    def limited(self) -> bool:
        return self.settings.rate_limits and self.app.rate_limits


# -- /v3/push/app -------------------------------------------------------------------------


def create_push(ctx: CallContext, request: dict[str, Any]) -> dict[str, Any]:
    order = validate_push(request, platform=ctx.app.platform, now=ctx.now, settings=ctx.settings)
    _check_package(ctx, order)
    if ctx.limited:
        _check_push_rate(ctx, order)
    collapsed = _override_targets(ctx, order)
    push_ids = [
        _insert_task(ctx, request, order, send_time=send_time) for send_time in order.send_times
    ]
    for task in collapsed:
        ctx.store.pin_status(task.push_id, "PUSH_COLLAPSED", ctx.now.timestamp())
    return _push_reply(order, push_ids)


def _check_push_rate(ctx: CallContext, order: PushOrder) -> None:
    moment = ctx.now.timestamp()
    if order.audience_type in BROADCAST_AUDIENCES:
        last = ctx.store.last_broadcast_at(ctx.app.access_id)
        if last is not None and moment - last < ctx.settings.broadcast_push_interval_seconds:
            raise Refusal(TOO_FAST, "all/tag/package_account_push allow 1 push per second per app")
    if order.audience_type == "all":
        since = moment - ctx.settings.repeat_window_seconds
        if ctx.store.repeated_push_exists(ctx.app.access_id, order.title, order.content, since):
            raise Refusal(PUSH_REPEAT, "the same title and content went to all devices this hour")


def _override_targets(ctx: CallContext, order: PushOrder) -> list[TaskRow]:
    if order.collapse_id == 0:
        return []
    settings = ctx.settings
    if order.audience_type not in BROADCAST_AUDIENCES:
        raise Refusal(
            settings.refusal_code("collapse_audience"),
            f"collapse_id is only for all, tag and package_account_push, not {order.audience_type}",
        )
    earlier = ctx.store.tasks_with_collapse_id(ctx.app.access_id, order.collapse_id)
    if not earlier:
        raise Refusal(
            settings.refusal_code("collapse_unknown"),
            f"collapse_id {order.collapse_id} belongs to no earlier task of this app; "
            "read it from get_push_record (collapseID)",
        )
    return [t for t in earlier if t.status(ctx.now, settings) in COLLAPSIBLE]


def _insert_task(
    ctx: CallContext,
    request: dict[str, Any],
    order: PushOrder,
    *,
    send_time: datetime | None,
    created_at: datetime | None = None,
    pinned_status: str | None = None,
    seeded: bool = False,
) -> int:
    store, settings = ctx.store, ctx.settings
    push_id = store.next_number("push_id", settings.first_push_id)
    collapse_id = order.collapse_id
    if collapse_id == 0 and order.audience_type in BROADCAST_AUDIENCES:
        collapse_id = store.next_number("collapse_id", settings.first_collapse_id)
    created = (created_at or ctx.now).timestamp()
    store.insert_task(
        TaskRow(
            push_id=push_id,
            access_id=ctx.app.access_id,
            body=json.dumps(request, ensure_ascii=False),
            audience_type=order.audience_type,
            message_type=order.message_type,
            environment=order.environment,
            title=order.title,
            content=order.content,
            created_at=created,
            send_at=None if send_time is None else send_time.timestamp(),
            expire_time=order.expire_time,
            collapse_id=collapse_id,
            force_collapse=order.force_collapse,
            pinned_status=pinned_status,
            status_at=created if pinned_status else None,
            seeded=seeded,
            targets=json.dumps(list(order.targets)),
            upload_id=order.upload_id,
        )
    )
    return push_id


def _push_reply(order: PushOrder, push_ids: list[int]) -> dict[str, Any]:
    """The payload `envelopes.answer` places: every key of a real answer, for every audience."""
    ids = [str(push_id) for push_id in push_ids]
    token_push = order.audience_type in ("token", "token_list")
    return {
        "push_id": ids if order.is_loop else ids[0],
        "environment": order.environment or "product",
        "result": push_result(len(order.targets) if token_push else None),
        "invalid_targe_list": list(order.invalid_targets),
    }


def _check_package(ctx: CallContext, order: PushOrder) -> None:
    """A package push names a package this app uploaded, whose entries fit the push."""
    if not order.audience_type.startswith("package_") or not ctx.settings.require_issued_upload_id:
        return
    settings = ctx.settings
    package = ctx.store.upload(ctx.app.access_id, order.upload_id)
    if package is None:
        raise Refusal(
            settings.refusal_code("upload_unknown"),
            f"upload_id {order.upload_id} was never issued to app {ctx.app.access_id}; "
            "upload the package with /v3/push/package/upload and use the uploadId it returns",
        )
    if order.audience_type == "package_token_push" and package.longest > settings.max_token_length:
        raise Refusal(
            settings.refusal_code("package_entries"),
            f"package {package.file_name!r} holds entries of {package.longest} characters; "
            "tokens have at most 36",
        )


# -- /v3/push/package/upload -----------------------------------------------------------------


def upload_package(ctx: CallContext, content_type: str, body: bytes) -> dict[str, Any]:
    """Check the multipart `file` part and issue the app an uploadId for it."""
    name, data = read_package(content_type, body)
    package = check_package(name, data, settings=ctx.settings)
    upload_id = ctx.store.next_number("upload_id", ctx.settings.first_upload_id)
    ctx.store.insert_upload(upload_id, ctx.app.access_id, package, ctx.now.timestamp())
    return {"uploadId": upload_id}


def seed_push(
    ctx: CallContext,
    request: dict[str, Any],
    *,
    status: str | None,
    created_at: datetime | None,
) -> int:
    """Store a task as if pushed at `created_at`, with no rate limit or send-time window."""
    order = validate_push(
        request, platform=ctx.app.platform, now=ctx.now, settings=ctx.settings, check_times=False
    )
    ids = [
        _insert_task(
            ctx,
            request,
            order,
            send_time=send_time,
            created_at=created_at,
            pinned_status=status,
            seeded=True,
        )
        for send_time in order.send_times
    ]
    return ids[0]


# -- stop / revoke / cancel -----------------------------------------------------------------


def read_push_id(request: dict[str, Any], *, strict: bool) -> int:
    """The task id under any accepted key (section 10 item 2), as string or integer."""
    keys = PUSH_ID_KEYS[:1] if strict else PUSH_ID_KEYS
    value = next((request[k] for k in keys if not is_unset(request.get(k))), None)
    if value is None:
        raise Refusal(MISSING_PARAMETER, f"pushId is required (accepted keys: {', '.join(keys)})")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if type(value) is int and value > 0:
        return value
    raise Refusal(INVALID_PARAMETER, f"pushId must be a numeric string, got {value!r}")


def visible_task(ctx: CallContext, push_id: int) -> TaskRow:
    """The app's task with that id inside the one-month horizon, else 1008015."""
    task = ctx.store.task(push_id)
    if task is None or task.access_id != ctx.app.access_id:
        raise Refusal(PUSH_ID_NOT_EXIST, f"push id {push_id} does not exist for this app")
    if not within_horizon(task, ctx.now, ctx.settings):
        raise Refusal(PUSH_ID_NOT_EXIST, f"push id {push_id} is older than the record horizon")
    return task


def manage_task(ctx: CallContext, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """stop / revoke / cancel: check the precondition, then pin the resulting status."""
    task = visible_task(ctx, read_push_id(request, strict=ctx.settings.strict_push_id_key))
    if operation == "stop":
        status = check_stop(task, platform=ctx.app.platform, now=ctx.now, settings=ctx.settings)
    elif operation == "revoke":
        status = check_revoke(
            task, recall_enabled=ctx.app.recall_enabled, now=ctx.now, settings=ctx.settings
        )
    else:
        status = check_cancel(task, now=ctx.now, settings=ctx.settings)
    ctx.store.pin_status(task.push_id, status, ctx.now.timestamp())
    return {}


# -- /v3/statistics/get_push_record ------------------------------------------------------------


def check_statistics_quota(ctx: CallContext, path: str) -> None:
    """200 calls per hour per statistics path per app (1008028); refused calls do not count."""
    moment = ctx.now.timestamp()
    if ctx.limited:
        since = (ctx.now - timedelta(hours=1)).timestamp()
        used = ctx.store.statistics_calls_since(ctx.app.access_id, path, since)
        if used >= ctx.settings.statistics_calls_per_hour:
            raise Refusal(TOO_FAST, f"{path} allows 200 calls per hour per app")
    ctx.store.record_statistics_call(ctx.app.access_id, path, moment)


def push_records(ctx: CallContext, request: dict[str, Any]) -> dict[str, Any]:
    if not is_unset(request.get("pushId")):
        task = visible_task(ctx, read_push_id(request, strict=True))
        return {"pushRecordData": [_record(ctx, task)]}
    query = parse_range_query(request, ctx.settings)
    horizon = ctx.now - timedelta(days=ctx.settings.record_horizon_days)
    oldest = horizon.astimezone(ctx.settings.zone()).date()
    if query.start < oldest:
        raise Refusal(
            INVALID_PARAMETER,
            f"startDate {query.start} is older than the last "
            f"{ctx.settings.record_horizon_days} days (earliest {oldest})",
        )
    # Filter and sort a light index; load whole tasks only for the page returned.
    matches = [
        entry
        for entry in ctx.store.task_index(ctx.app.access_id, since=horizon.timestamp())
        if query.selects_entry(entry, ctx.settings)
    ]
    matches.sort(key=lambda entry: (entry.shown_at, entry.push_id), reverse=True)
    page = ctx.store.tasks_by_id(
        [e.push_id for e in matches[query.offset : query.offset + query.limit]]
    )
    return {"count": len(matches), "pushRecordData": [_record(ctx, task) for task in page]}


def _record(ctx: CallContext, task: TaskRow) -> dict[str, Any]:
    return push_record(task, status=task.status(ctx.now, ctx.settings), settings=ctx.settings)
