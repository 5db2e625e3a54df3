"""The emulated TPNS without networking: authenticate, dispatch, record, and the admin operations.

`handle(path, headers, body)` answers one API call as TPNS would (HTTP 200 + envelope for every
business error). The ASGI app in `app.py` is a thin layer over this class.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.emulator.auth import authenticate, is_digest, read_credentials, secret_digest
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.envelopes import (
    PUSH_PATH,
    RECORD_PATH,
    UPLOAD_PATH,
    answer,
    envelope,
)
from reconciler.emulator.faults import Fault, FaultPlan, draw, parse_fault
from reconciler.emulator.lifecycle import STATUSES
from reconciler.emulator.operations import (
    CallContext,
    check_statistics_quota,
    create_push,
    manage_task,
    push_records,
    seed_push,
    upload_package,
)
from reconciler.emulator.record_view import push_record
from reconciler.emulator.refusals import MESSAGES, PARSE_ERROR, Refusal
from reconciler.emulator.settings import AppSpec, EmulatorSettings
from reconciler.emulator.store import EmulatorStore
from reconciler.emulator.uploads import content_type_of

MANAGEMENT_PATHS = {
    "/v3/push/stop_push_msg": "stop",
    "/v3/push/revoke_push_msg": "revoke",
    "/v3/push/cancel_timing_task": "cancel",
}
MUTATING_PATHS = frozenset({PUSH_PATH, UPLOAD_PATH, *MANAGEMENT_PATHS})
API_PATHS = frozenset({*MUTATING_PATHS, RECORD_PATH})


@dataclass(frozen=True)
class ApiReply:
    """What the HTTP layer sends back."""

    payload: dict[str, Any]
    status_code: int = 200


def _parse_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refusal(PARSE_ERROR, f"the body is not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise Refusal(PARSE_ERROR, "the body must be a JSON object")
    return parsed


def _ledger_body(body: bytes, path: str = "") -> object:
    if path == UPLOAD_PATH:  # a package can be 100 MB: the ledger keeps its size only
        return {"multipart_bytes": len(body)}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body.decode("utf-8", errors="replace")


def request_seq(body: bytes) -> int:
    """The request's `seq`, echoed in snake_case replies; 0 when absent or unreadable."""
    parsed = _ledger_body(body)
    seq = parsed.get("seq") if isinstance(parsed, dict) else None
    return seq if type(seq) is int else 0


class EmulatorCore:
    """Store + rules + clock of the emulated TPNS.

    With a `db_path`, several cores (and processes) share one SQLite file. A `SystemClock` offset
    set through `advance_clock`/`set_clock` (the admin surface) is shared through the file too; a
    `ManualClock` stays private to the core that holds it.
    """

    def __init__(
        self,
        db_path: Path | None = None,
        *,
        clock: Clock | None = None,
        settings: EmulatorSettings | None = None,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.clock: Clock = clock or SystemClock()
        self._store = EmulatorStore(db_path)
        # Only a SystemClock offset is shared through the file; a ManualClock belongs to its test.
        self._shared_clock = self._store.persistent and isinstance(self.clock, SystemClock)
        self._seen_offset: str | None = None
        #: Secrets of apps registered with persist_secret=False: kept here, never in the file.
        self._secrets: dict[str, str] = {}

    # -- clock ----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The emulated time; for file-backed cores the offset another process set applies."""
        if self._shared_clock:
            with self._store.transaction():
                stored = self._store.meta("clock_offset")
            # Apply only a change made elsewhere, so a direct `core.clock.advance()` still holds.
            if stored is not None and stored != self._seen_offset:
                assert isinstance(self.clock, SystemClock)
                self.clock.offset_seconds = float(stored)
            self._seen_offset = stored
        return self.clock.now()

    def advance_clock(self, seconds: float) -> datetime:
        with self._store.transaction():
            self.now()
            self.clock.advance(seconds)
            self._persist_clock()
        return self.clock.now()

    def set_clock(self, when: datetime) -> datetime:
        with self._store.transaction():
            self.clock.set(when)
            self._persist_clock()
        return self.clock.now()

    def _persist_clock(self) -> None:
        if self._shared_clock:
            assert isinstance(self.clock, SystemClock)
            self._seen_offset = repr(self.clock.offset_seconds)
            self._store.set_meta("clock_offset", self._seen_offset)

    # -- admin ----------------------------------------------------------------------------

    def add_app(self, app: AppSpec, *, persist_secret: bool = True) -> None:
        """Register (or update) an app.

        With `persist_secret=False` the file keeps only a salted digest of the secret and this
        core holds the secret in memory: for a real SecretKey, which must never reach the disk.
        Another core on the same file then accepts Basic auth for the app but not signatures.
        """
        stored = app if persist_secret else replace(app, secret=secret_digest(app.secret))
        with self._store.transaction():
            earlier = self._store.app(app.access_id)
            self._store.upsert_app(stored)
        if persist_secret:
            self._secrets.pop(app.access_id, None)
            return
        self._secrets[app.access_id] = app.secret
        if earlier is not None and not is_digest(earlier.secret):
            self._store.scrub()  # a file written before secrets were kept out of it

    def app(self, access_id: str) -> AppSpec | None:
        with self._store.transaction():
            return self._store.app(access_id)

    def seed_task(
        self,
        access_id: str,
        body: dict[str, Any],
        *,
        status: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Store a task directly (no rate limits, no send-time window); returns its push id.

        A given `status` is pinned: it does not move with the clock.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if created_at is not None and created_at.utcoffset() is None:
            raise ValueError("created_at must carry a UTC offset")
        with self._store.transaction():
            app = self._store.app(access_id)
            if app is None:
                raise ValueError(f"unknown app {access_id!r}; add it with add_app first")
            ctx = CallContext(self._store, self.settings, app, self.now())
            try:
                push_id = seed_push(ctx, body, status=status, created_at=created_at)
            except Refusal as exc:
                raise ValueError(f"seeded body rejected with {exc.code}: {exc.message}") from exc
        return str(push_id)

    def ledger(self) -> list[dict[str, Any]]:
        with self._store.transaction():
            return self._store.ledger()

    def read_counts(self) -> dict[str, dict[str, int]]:
        """Statistics calls accepted in the last hour: access id -> path -> count."""
        with self._store.transaction():
            return self._store.statistics_call_counts()

    def tasks(self, access_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored task as get_push_record shows it, plus the fields TPNS keeps internal."""
        with self._store.transaction():
            now = self.now()
            rows = self._store.tasks(access_id)
        return [
            {
                **push_record(row, status=row.status(now, self.settings), settings=self.settings),
                "accessId": row.access_id,
                "audienceType": row.audience_type,
                "body": json.loads(row.body),
                "createdAt": datetime.fromtimestamp(row.created_at, tz=now.tzinfo).isoformat(),
                "sendTime": None
                if row.send_at is None
                else datetime.fromtimestamp(row.send_at, tz=now.tzinfo).isoformat(),
                "forceCollapse": row.force_collapse,
                "seeded": row.seeded,
            }
            for row in rows
        ]

    def reset(self) -> None:
        """Forget tasks, ledger, quotas, faults and the clock offset; registered apps stay."""
        with self._store.transaction():
            self._store.clear()
            if isinstance(self.clock, SystemClock):
                self.clock.offset_seconds = 0.0
                self._persist_clock()

    def close(self) -> None:
        self._store.close()

    # -- faults ---------------------------------------------------------------------------

    def set_faults(self, specs: list[dict[str, Any]], *, seed: int | None = None) -> list[Fault]:
        faults = [parse_fault(spec) for spec in specs]
        with self._store.transaction():
            self._store.replace_faults([fault.to_spec() for fault in faults])
            self._store.set_meta("fault_seed", str(seed or 0))
            self._store.set_meta("fault_draws", "0")
        return faults

    def clear_faults(self) -> None:
        with self._store.transaction():
            self._store.replace_faults([])

    def faults(self) -> list[dict[str, Any]]:
        with self._store.transaction():
            return [{**spec, "count": left} for _, spec, left in self._store.faults()]

    def take_faults(self, path: str) -> FaultPlan:
        """Decide which faults fire for this request and use up their counts."""
        if not self._store.has_faults():  # the common case needs no write transaction
            return FaultPlan()
        chosen: dict[str, Fault] = {}
        with self._store.transaction():
            for fault_id, spec, remaining in self._store.faults():
                fault = parse_fault(spec)
                if fault.when in chosen or not fault.matches(path) or not self._fires(fault):
                    continue
                chosen[fault.when] = fault
                self._store.consume_fault(fault_id, remaining)
        return FaultPlan(before=chosen.get("before"), after=chosen.get("after"))

    def _fires(self, fault: Fault) -> bool:
        if fault.probability >= 1.0:
            return True
        seed = int(self._store.meta("fault_seed") or 0)
        number = self._store.next_number("fault_draws", 0)
        return draw(seed, number) < fault.probability

    def record_faulted_call(
        self, path: str, headers: Mapping[str, str], body: bytes, fault: Fault
    ) -> None:
        """A call refused by a `before` fault still reaches the ledger (nothing was changed)."""
        if path not in MUTATING_PATHS:
            return
        ret_code = fault.ret_code if fault.kind == "ret_code" else None
        with self._store.transaction():
            access_id = _claimed_access_id(headers)
            self._append_ledger(
                path, access_id, body, ret_code=ret_code, push_id=None, fault=fault.kind
            )

    # -- API ------------------------------------------------------------------------------

    def handle(
        self, path: str, headers: Mapping[str, str], body: bytes, *, fault: str | None = None
    ) -> ApiReply:
        """Answer one API call; `fault` names an `after` fault to note in the ledger."""
        seq = 0 if path == UPLOAD_PATH else request_seq(body)
        with self._store.transaction():
            now = self.now()
            access_id, code = self._authenticate(headers, body, now)
            try:
                if code:
                    raise Refusal(code)
                payload = self._dispatch(path, access_id, headers, body, now)
                code, message = 0, ""
            except Refusal as refusal:
                payload, code, message = {}, refusal.code, refusal.message
            push_id = payload.get("push_id")
            if path in MUTATING_PATHS:
                ledger_id = json.dumps(push_id) if isinstance(push_id, list) else push_id
                self._append_ledger(
                    path, access_id, body, ret_code=code, push_id=ledger_id, fault=fault
                )
        reply = answer(
            path, code=code, message=message, seq=seq, payload=payload, settings=self.settings
        )
        return ApiReply(reply)

    def _authenticate(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> tuple[str, int]:
        def secret_of(access_id: str) -> str | None:
            app = self._store.app(access_id)
            return None if app is None else self._secrets.get(access_id, app.secret)

        return authenticate(
            headers,
            body,
            lookup_secret=secret_of,
            now_epoch=now.timestamp(),
            skew_window_seconds=self.settings.skew_window_seconds,
            unknown_access_id_code=self.settings.unknown_access_id_code,
        )

    def _dispatch(
        self, path: str, access_id: str, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> dict[str, Any]:
        app = self._store.app(access_id)
        assert app is not None  # authentication succeeded, so the app exists
        ctx = CallContext(self._store, self.settings, app, now)
        if path == UPLOAD_PATH:
            return upload_package(ctx, content_type_of(headers), body)
        request = _parse_body(body)
        if path == PUSH_PATH:
            return create_push(ctx, request)
        if path in MANAGEMENT_PATHS:
            return manage_task(ctx, MANAGEMENT_PATHS[path], request)
        if path == RECORD_PATH:
            check_statistics_quota(ctx, path)
            return push_records(ctx, request)
        raise LookupError(f"no API operation at {path}")

    def _append_ledger(
        self,
        path: str,
        access_id: str,
        body: bytes,
        *,
        ret_code: int | None,
        push_id: str | None,
        fault: str | None,
    ) -> None:
        self._store.append_ledger(
            {
                "time": self.now().isoformat(),
                "access_id": access_id,
                "path": path,
                "body": _ledger_body(body, path),
                "ret_code": ret_code,
                "push_id": push_id,
                "fault": fault,
            }
        )

    def fault_envelope(self, path: str, body: bytes, code: int) -> dict[str, Any]:
        """The envelope an injected ret_code fault answers with."""
        message = MESSAGES.get(code, "injected fault")
        seq = 0 if path == UPLOAD_PATH else request_seq(body)
        return envelope(path, code=code, message=message, seq=seq, settings=self.settings)


def _claimed_access_id(headers: Mapping[str, str]) -> str:
    """Who the call claims to be, for the ledger of calls that were never authenticated."""
    credentials = read_credentials(headers)
    return "" if credentials is None else credentials.access_id
