"""TPNS request authentication: the signature scheme (recommended) and HTTP Basic.

Both are httpx auth flows; the secret lives in a `Secret` that never prints itself, so a
stray repr, log line or exception message cannot leak it (reference section 2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Generator
from typing import Literal

import httpx

AuthScheme = Literal["signature", "basic"]

_REDACTED = "Secret('********')"


class Secret:
    """A TPNS SecretKey. Only `reveal()` returns the value; repr and str are redacted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self._value.encode()).hexdigest()))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the secret to disk or a pipe; refuse instead of leaking.
        raise TypeError("a Secret cannot be pickled; pass the environment variable name instead")


def sign(secret: Secret, *, timestamp: int, access_id: str, body: bytes) -> str:
    """Return the `Sign` header value: base64 of the lowercase hex HMAC-SHA256.

    The message is the decimal timestamp, the AccessID and the exact body bytes sent,
    concatenated without separators (reference section 2.2).
    """
    message = f"{timestamp}{access_id}".encode() + body
    digest = hmac.new(secret.reveal().encode(), message, hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode("ascii")).decode("ascii")


def basic_authorization(access_id: str, secret: Secret) -> str:
    """Return the `Authorization` header value for HTTP Basic (reference section 2.1)."""
    pair = f"{access_id}:{secret.reveal()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class SignatureAuth(httpx.Auth):
    """Adds `AccessId`, `TimeStamp` and `Sign` headers, signing the body actually sent."""

    requires_request_body = True

    def __init__(self, *, access_id: str, secret: Secret, clock: Callable[[], float]) -> None:
        self._access_id = access_id
        self._secret = secret
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = int(self._clock())
        request.headers["AccessId"] = self._access_id
        request.headers["TimeStamp"] = str(timestamp)
        request.headers["Sign"] = sign(
            self._secret, timestamp=timestamp, access_id=self._access_id, body=request.content
        )
        yield request

    def __repr__(self) -> str:
        return f"SignatureAuth(access_id={self._access_id!r})"


class BasicAuth(httpx.Auth):
    """Adds `Authorization: Basic ...`; the header is built per request and never stored."""

    def __init__(self, *, access_id: str, secret: Secret) -> None:
        self._access_id = access_id
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = basic_authorization(self._access_id, self._secret)
        yield request

    def __repr__(self) -> str:
        return f"BasicAuth(access_id={self._access_id!r})"


def build_auth(
    scheme: AuthScheme, *, access_id: str, secret: Secret, clock: Callable[[], float]
) -> httpx.Auth:
    """Return the httpx auth flow for `scheme` ("signature" or "basic")."""
    if scheme == "signature":
        return SignatureAuth(access_id=access_id, secret=secret, clock=clock)
    return BasicAuth(access_id=access_id, secret=secret)
