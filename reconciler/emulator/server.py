"""Serving the emulator on loopback with uvicorn: blocking `serve` or threaded `running_server`.

The listening socket is bound before uvicorn starts, so the port (even port 0) is known at once and
early connections wait in the backlog instead of being refused; no readiness polling is needed.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from reconciler.emulator.app import create_app
from reconciler.emulator.core import EmulatorCore


def check_loopback_host(host: str) -> None:
    """The emulator speaks plain HTTP with test secrets; it must not listen beyond this host."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"the emulator listens on loopback only; {host!r} is not a loopback address "
            "(use 127.0.0.1 or ::1)"
        )


def _bind(host: str, port: int) -> socket.socket:
    check_loopback_host(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(core: EmulatorCore) -> uvicorn.Server:
    config = uvicorn.Config(create_app(core), lifespan="off", log_level="warning", access_log=False)
    return uvicorn.Server(config)


def serve(
    core: EmulatorCore,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; `on_ready` receives the base URL once the socket is bound."""
    sock = _bind(host, port)
    try:
        if on_ready is not None:
            on_ready(_base_url(sock))
        _server(core).run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def running_server(core: EmulatorCore, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the emulator in a background thread for the block; yields "http://127.0.0.1:PORT"."""
    sock = _bind(host, port)
    server = _server(core)
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
