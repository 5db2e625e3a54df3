"""The plan signing key and the audit key: read from the environment, never from a file.

Both are HMAC-SHA256 keys. They are read only here, so that no other module looks at the
environment for them, and no key is ever written to the state store or a plan file.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.errors import ConfigError

PLAN_KEY_ENV = "PUSHCTL_PLAN_KEY"
AUDIT_KEY_ENV = "PUSHCTL_AUDIT_KEY"
#: Shorter keys are refused: an HMAC is only as strong as a key that cannot be guessed.
MIN_KEY_CHARS = 16


def plan_key(env: Mapping[str, str]) -> bytes | None:
    """The key plans are signed with and checked against; None when not configured."""
    return _key(env, PLAN_KEY_ENV)


def audit_key(env: Mapping[str, str]) -> bytes | None:
    """The key audit records are MAC'd with and verified against; None when not configured."""
    return _key(env, AUDIT_KEY_ENV)


def _key(env: Mapping[str, str], name: str) -> bytes | None:
    value = env.get(name, "")
    if not value:
        return None
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(
            f"{name} is set but shorter than {MIN_KEY_CHARS} characters",
            hint="make one with `openssl rand -hex 32` and keep it in the CI secret store",
        )
    return value.encode("utf-8")
