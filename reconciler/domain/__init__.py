"""The pure domain: manifests, plans and the planner.

No I/O beyond reading manifest files, no clock.
"""
