"""`secretKeyEnv` names an environment variable; the SecretKey itself never belongs in a file.

A key pasted there by mistake must not be printed back (plans and CI logs are widely read), so
the checks here answer with a redacted form of the value, never the value.
"""

from __future__ import annotations

import re
from typing import Any

#: Upper-case letters, digits and `_`, not starting with a digit: what shells export portably.
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
_ENV_NAME = re.compile(ENV_NAME)
#: A run of letters and digits this long with no `_` reads as a key, not a name.
_KEY_LIKE = re.compile(r"[A-Za-z0-9+/=-]{16,}")
_EXAMPLE = "SHOP_ANDROID_SECRET_KEY"
_KINDS = {int: "a number", float: "a number", bool: "true/false", list: "a list", dict: "a mapping"}


def env_var_name(value: Any) -> str:
    """`value` when it is a variable name; else ValueError whose message cannot leak it."""
    if not isinstance(value, str):
        raise ValueError(
            f"must be the name of an environment variable, e.g. {_EXAMPLE} "
            f"(got {_KINDS.get(type(value), 'another value')}, not shown)"
        )
    if _looks_like_key(value):
        raise ValueError(
            f"looks like a secret, not a variable name (got {redacted(value)}); "
            f"put the key in an environment variable (export {_EXAMPLE}=...) and write the "
            "variable's name here — and rotate the key if this file was shared"
        )
    if not _ENV_NAME.match(value):
        raise ValueError(
            f"must name an environment variable: upper-case letters, digits and "
            f"`_`, not starting with a digit, e.g. {_EXAMPLE} (got {redacted(value)})"
        )
    return value


def _looks_like_key(value: str) -> bool:
    has_digit = any(char.isdigit() for char in value)
    has_lower = any(char.islower() for char in value)
    return _KEY_LIKE.fullmatch(value) is not None and (has_digit or has_lower)


def redacted(value: str) -> str:
    """`ab…yz (32 characters)`: enough to recognise the value, too little to use it."""
    if len(value) < 12:
        return f"{len(value)} characters, not shown"
    return f"{value[:2]}…{value[-2:]} ({len(value)} characters)"
