"""Shared test configuration: every test runs offline against the emulator."""

from __future__ import annotations

import os

from hypothesis import settings

# Property tests draw the same examples on every run: a failure is reproducible, and CI
# does not fail on a draw no developer saw (`make soak` tests run their own, longer settings).
settings.register_profile("pushctl", derandomize=True, database=None)
settings.load_profile("pushctl")

# Colours off: tests read plain output (progress bars are off too: output is never a terminal).
os.environ.setdefault("NO_COLOR", "1")
# A test is a developer's machine unless it says otherwise: `CI` changes what apply allows
# (local state), so the tests that need it set it themselves.
os.environ.pop("CI", None)
