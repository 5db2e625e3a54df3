"""The Starlette app: TPNS API paths over `EmulatorCore`, plus the guarded admin surface.

Admin (JSON in and out; 400 with {"error"} on bad input). Without an admin token only loopback
clients may use it (403 otherwise); with one, every client, loopback included, must send
`Authorization: Bearer <token>` (401 otherwise), so a served emulator can listen beyond loopback.
  POST /_emulator/apps    {access_id, secret, platform, recall_enabled?, rate_limits?}
  POST /_emulator/tasks   {access_id, body, status?, created_at?} -> {push_id}
  GET  /_emulator/tasks[?access_id=] -> {tasks}      GET /_emulator/ledger -> {ledger}
  GET|POST /_emulator/clock  {"advance": s} | {"set": iso8601} -> {now}
  GET|POST|DELETE /_emulator/faults  {"faults": [...], "seed"?} -> {faults}
  POST /_emulator/reset

A "drop" fault sends the response head, then aborts. In-process (httpx.ASGITransport with
its default raise_app_exceptions=True) the client sees `ConnectionDropped`, an
httpx.RemoteProtocolError; over loopback uvicorn closes the socket and httpx raises
RemoteProtocolError ("peer closed connection without sending complete message body").
Either way the client gets a transport error and no body. (With raise_app_exceptions=False the
in-process client instead gets the started 200 with an empty body.)
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from reconciler.emulator.core import API_PATHS, ApiReply, EmulatorCore
from reconciler.emulator.faults import Fault, FaultPlan
from reconciler.emulator.settings import AppSpec

Sleep = Callable[[float], Awaitable[None]]


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by a "drop" fault after the response head went out."""


class DroppedResponse(Response):
    """Starts a 200 response that promises a body, then aborts the exchange."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        raise ConnectionDropped("emulator fault: connection dropped after the response head")


def is_loopback(host: str | None) -> bool:
    # "testclient" is the in-process client of starlette.testclient; it never leaves the process.
    if host in ("localhost", "testclient"):
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fault_response(core: EmulatorCore, fault: Fault, path: str, body: bytes) -> Response:
    if fault.kind == "http_5xx":
        return JSONResponse({"error": "emulator fault: server error"}, status_code=fault.status)
    if fault.kind == "drop":
        return DroppedResponse()
    return JSONResponse(core.fault_envelope(path, body, fault.ret_code))


def _draw_and_answer(
    core: EmulatorCore, path: str, headers: dict[str, str], body: bytes
) -> tuple[FaultPlan, ApiReply | None]:
    """Draw the faults and, unless one acts before the call, answer it: one thread hop."""
    plan = core.take_faults(path)
    if plan.before is not None:
        return plan, None
    note = None if plan.after is None else plan.after.kind
    return plan, core.handle(path, headers, body, fault=note)


def _api_endpoint(core: EmulatorCore, sleep: Sleep) -> Callable[[Request], Awaitable[Response]]:
    async def api_call(request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        headers = dict(request.headers)
        plan, reply = await run_in_threadpool(_draw_and_answer, core, path, headers, body)
        if reply is None:
            assert plan.before is not None
            if plan.before.kind != "latency":
                await run_in_threadpool(core.record_faulted_call, path, headers, body, plan.before)
                return _fault_response(core, plan.before, path, body)
            await sleep(plan.before.latency_ms / 1000)
            notes = ",".join(["latency", *([plan.after.kind] if plan.after else [])])
            reply = await run_in_threadpool(lambda: core.handle(path, headers, body, fault=notes))
        if plan.after is not None:
            if plan.after.kind != "latency":
                return _fault_response(core, plan.after, path, body)
            await sleep(plan.after.latency_ms / 1000)
        return JSONResponse(reply.payload, status_code=reply.status_code)

    return api_call


class AdminEndpoints:
    """The /_emulator/ handlers; every one checks the client (address or token) first."""

    def __init__(self, core: EmulatorCore, *, admin_token: str | None = None) -> None:
        self.core = core
        self._token = admin_token or None

    def refusal(self, request: Request) -> Response | None:
        """The answer to a client that may not use the admin surface, or None."""
        if self._token is not None:
            sent = request.headers.get("authorization", "")
            expected = f"Bearer {self._token}"
            if hmac.compare_digest(sent.encode(), expected.encode()):
                return None
            message = "/_emulator/ needs the header `Authorization: Bearer <admin token>`"
            return JSONResponse({"error": message}, status_code=401)
        host = request.client.host if request.client else None
        if is_loopback(host):
            return None
        message = (
            f"/_emulator/ is served to loopback clients only, not {host}; "
            "start the emulator with an admin token to use it from elsewhere"
        )
        return JSONResponse({"error": message}, status_code=403)

    async def _json(self, request: Request) -> dict[str, Any]:
        try:
            payload = await request.json()
        except ValueError as exc:
            raise ValueError(f"the body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        return payload

    def guard(
        self, handler: Callable[[Request], Awaitable[dict[str, Any]]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            refused = self.refusal(request)
            if refused is not None:
                return refused
            try:
                return JSONResponse(await handler(request))
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return guarded

    async def apps(self, request: Request) -> dict[str, Any]:
        payload = await self._json(request)
        app = AppSpec(
            access_id=str(payload["access_id"]),
            secret=str(payload["secret"]),
            platform=payload["platform"],
            recall_enabled=bool(payload.get("recall_enabled", False)),
            rate_limits=bool(payload.get("rate_limits", True)),
        )
        self.core.add_app(app)
        return {"access_id": app.access_id}

    async def tasks(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            access_id = request.query_params.get("access_id")
            return {"tasks": self.core.tasks(access_id)}
        payload = await self._json(request)
        created_at = payload.get("created_at")
        push_id = self.core.seed_task(
            str(payload["access_id"]),
            payload["body"],
            status=payload.get("status"),
            created_at=None if created_at is None else datetime.fromisoformat(created_at),
        )
        return {"push_id": push_id}

    async def clock(self, request: Request) -> dict[str, Any]:
        if request.method == "POST":
            payload = await self._json(request)
            if "advance" in payload:
                self.core.advance_clock(float(payload["advance"]))
            elif "set" in payload:
                self.core.set_clock(datetime.fromisoformat(str(payload["set"])))
            else:
                raise ValueError('give {"advance": seconds} or {"set": "<iso8601>"}')
        return {"now": self.core.now().isoformat()}

    async def faults(self, request: Request) -> dict[str, Any]:
        if request.method == "POST":
            payload = await self._json(request)
            specs = payload.get("faults")
            if not isinstance(specs, list):
                raise ValueError('give {"faults": [...]} with a list of faults')
            seed = payload.get("seed")
            self.core.set_faults(specs, seed=None if seed is None else int(seed))
        elif request.method == "DELETE":
            self.core.clear_faults()
        return {"faults": self.core.faults()}

    async def ledger(self, request: Request) -> dict[str, Any]:
        return {"ledger": self.core.ledger()}

    async def reads(self, request: Request) -> dict[str, Any]:
        return {"reads": self.core.read_counts()}

    async def reset(self, request: Request) -> dict[str, Any]:
        self.core.reset()
        return {"reset": True}

    def routes(self) -> list[Route]:
        table: list[tuple[str, Callable[[Request], Awaitable[dict[str, Any]]], list[str]]] = [
            ("/_emulator/apps", self.apps, ["POST"]),
            ("/_emulator/tasks", self.tasks, ["GET", "POST"]),
            ("/_emulator/clock", self.clock, ["GET", "POST"]),
            ("/_emulator/faults", self.faults, ["GET", "POST", "DELETE"]),
            ("/_emulator/ledger", self.ledger, ["GET"]),
            ("/_emulator/reads", self.reads, ["GET"]),
            ("/_emulator/reset", self.reset, ["POST"]),
        ]
        return [
            Route(path, self.guard(handler), methods=methods) for path, handler, methods in table
        ]


def create_app(
    core: EmulatorCore, *, sleep: Sleep = asyncio.sleep, admin_token: str | None = None
) -> Starlette:
    """The ASGI app; `sleep` is what latency faults await (tests pass a recorder).

    `admin_token` opens /_emulator/ to any client that presents it (and closes it to those that
    do not); without it /_emulator/ answers loopback clients only.
    """
    api = _api_endpoint(core, sleep)
    routes = [Route(path, api, methods=["POST"]) for path in sorted(API_PATHS)]
    admin = AdminEndpoints(core, admin_token=admin_token)
    return Starlette(routes=routes + admin.routes())
