"""Field-by-field validation of `spec.push`, the /v3/push/app body (reference section 4)."""

from __future__ import annotations

from typing import Any


def validate_push_body(body: dict[str, Any]) -> dict[str, Any]:
    """Return the body unchanged when valid; raise ValueError naming the field otherwise."""
    return body
