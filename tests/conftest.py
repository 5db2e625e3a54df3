"""Shared test configuration: every test runs offline against the emulator."""

from __future__ import annotations

import os

# Progress bars and colours off: tests read plain output.
os.environ.setdefault("CI", "true")
os.environ.setdefault("NO_COLOR", "1")
