"""The TPNS REST API v3 client: auth, envelopes, errors, endpoints, pacing."""

from __future__ import annotations

from reconciler.tpns.auth import Secret, sign
from reconciler.tpns.client import TpnsClient, body_digest, encode_body
from reconciler.tpns.endpoints import REGIONS, resolve_base_url
from reconciler.tpns.envelope import PushResult
from reconciler.tpns.errors import (
    AuthFailed,
    HttpStatusError,
    InvalidRequest,
    MalformedResponse,
    PushIdNotFound,
    RateLimited,
    ServiceFailure,
    api_error,
)
from reconciler.tpns.quota import QuotaLedger, RateLimit
from reconciler.tpns.retry import RetryPolicy

__all__ = [
    "REGIONS",
    "AuthFailed",
    "HttpStatusError",
    "InvalidRequest",
    "MalformedResponse",
    "PushIdNotFound",
    "PushResult",
    "QuotaLedger",
    "RateLimit",
    "RateLimited",
    "RetryPolicy",
    "Secret",
    "ServiceFailure",
    "TpnsClient",
    "api_error",
    "body_digest",
    "encode_body",
    "resolve_base_url",
    "sign",
]
