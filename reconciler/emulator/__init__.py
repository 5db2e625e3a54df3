"""A local TPNS REST API v3: core (store, rules, clock), Starlette app, loopback server.

docs/emulator.md lists what it conforms to; the defaults of what TPNS leaves open live in
`EmulatorSettings`.
"""

from __future__ import annotations

from reconciler.emulator.app import ConnectionDropped, create_app
from reconciler.emulator.auth import compute_sign
from reconciler.emulator.clock import Clock, ManualClock, SystemClock
from reconciler.emulator.core import ApiReply, EmulatorCore
from reconciler.emulator.settings import AppSpec, EmulatorSettings

__all__ = [
    "ApiReply",
    "AppSpec",
    "Clock",
    "ConnectionDropped",
    "EmulatorCore",
    "EmulatorSettings",
    "ManualClock",
    "SystemClock",
    "compute_sign",
    "create_app",
]
