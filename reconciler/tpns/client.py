"""The async TPNS v3 client: one app (AccessID), reads, pushes and task management.

Retries follow one rule: a request is sent again only when it cannot have changed anything at
TPNS. A create that may have reached the server raises OutcomeUnknown instead, so the engine
resolves it by reading live tasks back and no push is ever sent twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from reconciler.errors import ApiError, OutcomeUnknown, PushctlError, TransportError
from reconciler.records import LiveTask
from reconciler.tpns import endpoints, envelope
from reconciler.tpns.auth import Secret, build_auth
from reconciler.tpns.envelope import PushResult
from reconciler.tpns.errors import HttpStatusError, MalformedResponse, PushIdNotFound
from reconciler.tpns.quota import QuotaLedger
from reconciler.tpns.retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_RETRY = RetryPolicy()

_SERVICE_FAILURE = 1008004
_RATE_LIMITED = 1008028
MAX_PAGE_SIZE = 200

# Failures raised before any byte of the request left this machine.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def _nothing() -> None:
    return None


class TpnsClient:
    """Calls the TPNS REST API v3 for one app. Use as `async with TpnsClient(...) as client`."""

    def __init__(
        self,
        *,
        access_id: str,
        secret: Secret,
        base_url: str,
        auth: Literal["signature", "basic"] = "signature",
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        utc_offset: str = "+08:00",
        timeout: float = 10.0,
        quota: QuotaLedger | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.access_id = access_id
        self.base_url = endpoints.check_base_url(base_url)
        self.auth_scheme = auth
        self.zone = envelope.parse_utc_offset(utc_offset)
        self.quota = quota if quota is not None else QuotaLedger(clock, app=access_id)
        self.retry = retry
        #: Seconds a request may take before the client gives up on it.
        self.timeout = timeout
        #: HTTP requests that may have reached TPNS, per path (connect failures excluded).
        self.calls_made: Counter[str] = Counter()
        self._auth = build_auth(auth, access_id=access_id, secret=secret, clock=clock)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._broadcast_turn = asyncio.Lock()
        self._owns_http = http is None
        # `tls`: one context shared by a command's clients; httpx's default loads the CA
        # bundle again for every client (about 25 ms each).
        self._http = http or httpx.AsyncClient(
            transport=transport, timeout=timeout, verify=tls if tls is not None else True
        )

    def __repr__(self) -> str:
        return (
            f"TpnsClient(access_id={self.access_id!r}, base_url={self.base_url!r}, "
            f"auth={self.auth_scheme!r})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    # -- pushes ---------------------------------------------------------------------------

    async def push_app(
        self, body: dict[str, Any], *, on_send: Callable[[], None] | None = None
    ) -> PushResult:
        """Create a push task. Never re-sent once the request may have reached TPNS.

        `on_send` runs right before each request leaves, after any wait for the push's 1/s
        turn: the engine commits its write-ahead intent there, so a run stopped while waiting
        leaves no intent for a push it never sent. An exception from it sends nothing.
        """
        path = endpoints.PUSH_APP
        content = encode_body(body)
        paced = body.get("audience_type") in endpoints.BROADCAST_AUDIENCES
        ready = on_send or _nothing
        for attempt in range(self.retry.attempts):
            sent_at = self._clock()
            try:
                reply = await (
                    self._paced_exchange(path, content, ready)
                    if paced
                    else self._sent_exchange(path, content, ready)
                )
                envelope.check(reply, path=path)
                return envelope.push_result(reply, path=path)
            except TransportError as exc:
                if exc.maybe_delivered:
                    waited = self.timeout if exc.timed_out else None
                    raise self._outcome_unknown(
                        path, content, sent_at, str(exc), timed_out_after=waited
                    ) from exc
                if attempt + 1 == self.retry.attempts:
                    raise
                await self._back_off(path, attempt, exc)
            except ApiError as exc:
                if exc.code == _SERVICE_FAILURE:
                    raise self._outcome_unknown(path, content, sent_at, str(exc)) from exc
                # 1008028 included: TPNS documents no push it refused as too fast yet made,
                # nor the opposite; the engine reads back before any new attempt.
                raise
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def _sent_exchange(
        self, path: str, content: bytes, ready: Callable[[], None]
    ) -> dict[str, Any]:
        ready()
        return await self._exchange(path, content)

    async def _paced_exchange(
        self, path: str, content: bytes, ready: Callable[[], None]
    ) -> dict[str, Any]:
        """One broadcast push at a time, the next no sooner than 1 s after this one's answer.

        TPNS times a push when it receives it, somewhere between our send and its answer;
        spacing from the answer keeps the gap it sees at or above the limit whatever the
        network latency, so pacing itself never causes a 1008028.
        """
        async with self._broadcast_turn:
            await self.quota.wait_and_reserve(path, self._sleep)
            try:
                ready()
                return await self._exchange(path, content)
            finally:
                self.quota.settle(path)

    # -- reads ----------------------------------------------------------------------------

    async def get_push_record(self, push_id: str) -> LiveTask:
        """Read one task by id (spends one statistics call per attempt)."""
        path = endpoints.GET_PUSH_RECORD
        reply = await self._read(path, {"pushId": push_id})
        for record in envelope.records(reply, path=path):
            if str(record.get("pushId")) == push_id:
                return envelope.live_task(record, zone=self.zone, path=path)
        raise PushIdNotFound(
            f"TPNS {path} returned no record for push id {push_id} of app {self.access_id}",
            code=1008015,
            retryable=False,
            path=path,
            hint="check the pushId; TPNS only keeps tasks of the last month",
        )

    async def list_push_records(
        self,
        *,
        start_date: date,
        end_date: date,
        msg_type: str | None = None,
        push_type: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[LiveTask]:
        """Read every task dated in [start_date, end_date], one statistics call per page."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        path = endpoints.GET_PUSH_RECORD
        query: dict[str, Any] = {
            # strftime, not isoformat: a datetime passed as a date must not add a time part.
            "startDate": start_date.strftime("%Y-%m-%d"),
            "endDate": end_date.strftime("%Y-%m-%d"),
        }
        if msg_type is not None:
            query["msgType"] = msg_type
        if push_type is not None:
            query["pushType"] = push_type
        tasks: dict[str, LiveTask] = {}
        offset = 0
        while True:
            reply = await self._read(path, {**query, "offset": offset, "limit": page_size})
            page = envelope.records(reply, path=path)
            for record in page:
                task = envelope.live_task(record, zone=self.zone, path=path)
                # A task created mid-listing shifts later pages; keep the first copy seen.
                tasks.setdefault(task.push_id, task)
            offset += len(page)
            if not page or offset >= _count(reply, path=path):
                return list(tasks.values())

    # -- task management ------------------------------------------------------------------

    # Each takes `on_send` as push_app does: it runs right before each attempt leaves (after
    # any backoff), so the engine's record of the call is committed when the call really goes.

    async def stop_push_msg(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None:
        """Terminate a task's pending offline delivery (Android apps only)."""
        await self._manage(endpoints.STOP_PUSH_MSG, push_id, on_send or _nothing)

    async def revoke_push_msg(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None:
        """Recall a task (TPNS currently reports this feature as offline)."""
        await self._manage(endpoints.REVOKE_PUSH_MSG, push_id, on_send or _nothing)

    async def cancel_timing_task(
        self, push_id: str, *, on_send: Callable[[], None] | None = None
    ) -> None:
        """Cancel a scheduled task that has not been dispatched yet."""
        await self._manage(endpoints.CANCEL_TIMING_TASK, push_id, on_send or _nothing)

    # -- retry loops ----------------------------------------------------------------------

    async def _read(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A statistics call: safe to repeat, but each attempt spends hourly quota."""
        content = encode_body(body)
        for attempt in range(self.retry.attempts):
            if self.quota.remaining(path) == 0:
                raise self.quota.exceeded(path)
            self.quota.reserve(path)
            try:
                reply = await self._exchange(path, content)
                envelope.check(reply, path=path)
                return reply
            except (TransportError, ApiError) as exc:
                if not _read_may_retry(exc) or attempt + 1 == self.retry.attempts:
                    raise
                await self._back_off(path, attempt, exc)
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def _manage(self, path: str, push_id: str, ready: Callable[[], None]) -> None:
        """stop/revoke/cancel: repeated only when the failure surely changed nothing."""
        content = encode_body({"pushId": push_id})
        for attempt in range(self.retry.attempts):
            try:
                reply = await self._sent_exchange(path, content, ready)
                envelope.check(reply, path=path)
                return
            except TransportError as exc:
                if exc.maybe_delivered or attempt + 1 == self.retry.attempts:
                    raise
                await self._back_off(path, attempt, exc)
            except ApiError as exc:
                retryable = exc.code in (_SERVICE_FAILURE, _RATE_LIMITED)
                if not retryable or attempt + 1 == self.retry.attempts:
                    raise
                await self._back_off(path, attempt, exc)

    async def _back_off(self, path: str, attempt: int, cause: PushctlError) -> None:
        delay = self.retry.delay(attempt, self._rng)
        log.warning(
            "TPNS %s attempt %d of %d failed (%s); retrying in %.2f s",
            path,
            attempt + 1,
            self.retry.attempts,
            cause.message,
            delay,
        )
        await self._sleep(delay)

    # -- one HTTP exchange ----------------------------------------------------------------

    async def _exchange(self, path: str, content: bytes) -> dict[str, Any]:
        """POST once; return the decoded envelope of a 200, or raise TransportError."""
        request = self._http.build_request(
            "POST",
            self.base_url + path,
            content=content,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            response = await self._http.send(request, auth=self._auth)
        except _NOT_SENT as exc:
            raise _transport_error(
                f"could not reach TPNS at {self.base_url} for {path}: {_describe(exc)}",
                path=path,
                maybe_delivered=False,
            ) from exc
        except (httpx.HTTPError, OSError) as exc:
            self.calls_made[path] += 1
            raise _transport_error(
                f"TPNS {path} at {self.base_url} failed after the request was sent: "
                f"{_describe(exc)}",
                path=path,
                maybe_delivered=True,
                timed_out=isinstance(exc, httpx.TimeoutException),
            ) from exc
        self.calls_made[path] += 1
        log.debug("TPNS %s %s answered HTTP %d", self.access_id, path, response.status_code)
        if response.status_code != 200:
            raise HttpStatusError(
                f"TPNS {path} at {self.base_url} answered HTTP {response.status_code}",
                path=path,
                status_code=response.status_code,
            )
        return envelope.decode(response.content, path=path)

    def _outcome_unknown(
        self,
        path: str,
        content: bytes,
        sent_at: float,
        cause: str,
        *,
        timed_out_after: float | None = None,
    ) -> OutcomeUnknown:
        first_line = cause.splitlines()[0] if cause else "no answer"
        return OutcomeUnknown(
            f"push for app {self.access_id} may or may not have been created ({first_line})",
            path=path,
            access_id=self.access_id,
            sent_at_unix=sent_at,
            body_digest=body_digest(content),
            timed_out_after=timed_out_after,
        )


def body_digest(content: bytes) -> str:
    """SHA-256 hex of the exact request bytes: how an open intent is matched later."""
    return hashlib.sha256(content).hexdigest()


def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a request body: compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _read_may_retry(exc: PushctlError) -> bool:
    if isinstance(exc, ApiError):
        return exc.code in (_SERVICE_FAILURE, _RATE_LIMITED)
    if isinstance(exc, HttpStatusError):
        return exc.status_code >= 500
    return isinstance(exc, TransportError) and not isinstance(exc, MalformedResponse)


def _count(reply: dict[str, Any], *, path: str) -> int:
    try:
        return int(reply.get("count", 0))
    except (TypeError, ValueError) as exc:
        raise MalformedResponse(f"TPNS {path} answered a non-numeric count", path=path) from exc


def _transport_error(
    message: str, *, path: str, maybe_delivered: bool, timed_out: bool = False
) -> TransportError:
    error = TransportError(message, path=path, maybe_delivered=maybe_delivered, timed_out=timed_out)
    error.hint = (
        "TPNS may have acted on it; re-read the task's live status before repeating the call"
        if maybe_delivered
        else "nothing reached TPNS; check the endpoint and the network, then retry"
    )
    return error


def _describe(exc: Exception) -> str:
    text = str(exc) or "no detail"
    return f"{type(exc).__name__}: {text}"
