"""Request authentication as TPNS does it: signature headers (preferred) or HTTP Basic.

Sign = base64(lowercase hex(HMAC-SHA256(secret, TimeStamp + AccessId + raw body))); the body
part is the received bytes, never a re-serialisation, so whitespace differences break it as at TPNS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

AUTH_FAILURE = 1008003


def compute_sign(secret: str, timestamp: str, access_id: str, body: bytes) -> str:
    """The TPNS signature of one request (reference section 2.2)."""
    message = timestamp.encode() + access_id.encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


DIGEST_SCHEME = "sha256"


def secret_digest(secret: str, *, salt: str | None = None) -> str:
    """A salted SHA-256 of a secret, as a file keeps it instead of the secret itself.

    TPNS SecretKeys are 128-bit random strings, so a fast salted hash cannot be searched.
    """
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256((salt + secret).encode()).hexdigest()
    return f"{DIGEST_SCHEME}${salt}${digest}"


def is_digest(stored: str) -> bool:
    return stored.startswith(DIGEST_SCHEME + "$") and stored.count("$") == 2


def matches_digest(candidate: str, stored: str) -> bool:
    salt = stored.split("$")[1]
    return hmac.compare_digest(secret_digest(candidate, salt=salt).encode(), stored.encode())


@dataclass(frozen=True)
class Credentials:
    """Who a request claims to be and how it proves it."""

    access_id: str
    scheme: str  # "signature" | "basic"
    timestamp: str = ""
    sign: str = ""
    secret: str = ""


def read_credentials(headers: Mapping[str, str]) -> Credentials | None:
    """Pick the credentials from the headers; the signature wins when both schemes are present."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if "sign" in lowered or "timestamp" in lowered:
        return Credentials(
            access_id=lowered.get("accessid", ""),
            scheme="signature",
            timestamp=lowered.get("timestamp", ""),
            sign=lowered.get("sign", ""),
        )
    authorization = lowered.get("authorization", "")
    if authorization.lower().startswith("basic "):
        return _basic_credentials(authorization[6:].strip())
    return None


def _basic_credentials(token: str) -> Credentials | None:
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    access_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return Credentials(access_id=access_id, scheme="basic", secret=secret)


def verify(
    credentials: Credentials,
    *,
    secret: str,
    body: bytes,
    now_epoch: float,
    skew_window_seconds: float,
) -> bool:
    """True when the credentials prove knowledge of `secret` (and, for signatures, are fresh).

    `secret` may be a digest (an app registered without keeping its secret in the file, seen
    from another process): Basic credentials can be checked against it, a signature cannot.
    """
    if credentials.scheme == "basic":
        if is_digest(secret):
            return matches_digest(credentials.secret, secret)
        return hmac.compare_digest(credentials.secret.encode(), secret.encode())
    if is_digest(secret):
        return False
    if not credentials.timestamp.isdigit():
        return False
    if abs(now_epoch - int(credentials.timestamp)) > skew_window_seconds:
        return False
    expected = compute_sign(secret, credentials.timestamp, credentials.access_id, body)
    return hmac.compare_digest(expected.encode(), credentials.sign.encode())


def authenticate(
    headers: Mapping[str, str],
    body: bytes,
    *,
    lookup_secret: Callable[[str], str | None],
    now_epoch: float,
    skew_window_seconds: float,
    unknown_access_id_code: int,
) -> tuple[str, int]:
    """Return (access_id, ret_code): ret_code 0 when authenticated, otherwise the TPNS code."""
    credentials = read_credentials(headers)
    if credentials is None or not credentials.access_id:
        return "", AUTH_FAILURE
    secret = lookup_secret(credentials.access_id)
    if secret is None:
        return credentials.access_id, unknown_access_id_code
    ok = verify(
        credentials,
        secret=secret,
        body=body,
        now_epoch=now_epoch,
        skew_window_seconds=skew_window_seconds,
    )
    return credentials.access_id, 0 if ok else AUTH_FAILURE
