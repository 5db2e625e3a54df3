"""Serving the emulator with uvicorn: blocking `serve` or threaded `running_server`.

The listening socket is bound before uvicorn starts, so the port (even port 0) is known at once and
early connections wait in the backlog instead of being refused; no readiness polling is needed.
Any host may be bound (a CI service container listens on 0.0.0.0); the admin surface then stays
loopback-only unless an admin token opens it (see `app.py`).

It is served by httptools' C parser on uvloop (both dependencies of pushctl; uvloop is not built
for Windows, where asyncio's own loop serves): h11 on asyncio spent about half as much CPU
again per call.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.core import EmulatorCore

HTTP_PROTOCOL = "httptools"
EVENT_LOOP = "asyncio" if sys.platform == "win32" else "uvloop"


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses: nothing beyond this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Named IPPROTO_TCP, not 0: accepted sockets inherit it, and asyncio sets TCP_NODELAY only
    # on sockets that name it. Without it each answer's body waited for the client's delayed
    # ACK of its head: about 40 ms per call on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(core: EmulatorCore, admin_token: str | None) -> uvicorn.Server:
    app = create_app(core, admin_token=admin_token)
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        http=HTTP_PROTOCOL,
        loop=EVENT_LOOP,
    )
    return uvicorn.Server(config)


def serve(
    core: EmulatorCore,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    on_ready: Callable[[str], None] | None = None,
    admin_token: str | None = None,
) -> None:
    """Serve until interrupted; `on_ready` receives the base URL once the socket is bound."""
    sock = _bind(host, port)
    try:
        if on_ready is not None:
            on_ready(_base_url(sock))
        _server(core, admin_token).run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def running_server(
    core: EmulatorCore,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    admin_token: str | None = None,
) -> Iterator[str]:
    """Run the emulator in a background thread for the block; yields "http://HOST:PORT"."""
    sock = _bind(host, port)
    server = _server(core, admin_token)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="tpns-emulator", daemon=True
    )
    thread.start()
    try:
        yield _base_url(sock)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
