"""Scripts that measure plan and apply at scale against the emulator and print tables.

Run them from the repository root, e.g. `.venv/bin/python -m benchmarks.plan_scale --tasks 200`.
"""
