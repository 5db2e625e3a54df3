"""pushctl: declarative reconciliation of Tencent Push Notification Service push tasks."""

__version__ = "0.1.0"
