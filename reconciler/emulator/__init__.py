"""A local TPNS REST API v3: core (store, rules, clock), Starlette app, loopback server.

See DESIGN.md section 8 and reference/tpns-api.md; section 10 defaults live in `EmulatorSettings`.
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
