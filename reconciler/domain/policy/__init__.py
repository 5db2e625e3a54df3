"""Notification policy: the `policy:` section of pushctl.yaml and the rules it switches on.

Pure: declared tasks and the configuration in, findings (with the field each points at) out.
"""
