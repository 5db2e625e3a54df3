"""Every documented TPNS return code (reference section 7), and the ApiError each maps to.

The table is the one place that says what a code means, whether retrying can help, and what a
person should do next; `api_error` turns a non-zero ret_code / retCode into an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import ApiError, TransportError


@dataclass(frozen=True)
class ReturnCode:
    """One documented TPNS code: the server's text, our reading, and the next step."""

    code: int
    text: str
    retryable: bool
    hint: str


_FIX_BODY = "fix the request body (see the TPNS push reference) and plan again"
_CONTACT = "this is an account-level problem; check the app in the TPNS console"
_CERT = "fix the iOS certificate in the TPNS console"

#: Codes TPNS documents (reference section 7); `retryable` is our judgement (none documented).
RETURN_CODES: dict[int, ReturnCode] = {
    c.code: c
    for c in (
        ReturnCode(1008001, "request body could not be parsed", False, _FIX_BODY),
        ReturnCode(1008002, "a required parameter is missing", False, _FIX_BODY),
        ReturnCode(
            1008003,
            "authentication failed",
            False,
            "check the AccessID, the SecretKey in the environment variable named by "
            "secretKeyEnv, and the machine clock (signed timestamps must be current)",
        ),
        ReturnCode(
            1008004,
            "TPNS internal service call failed",
            True,
            "a TPNS-side failure; retry later",
        ),
        ReturnCode(1008006, "invalid token", False, "remove the invalid device token"),
        ReturnCode(
            1008007,
            "invalid parameter, or the task is not in a state that allows this call",
            False,
            "run plan again to re-read the task's live status, then fix the manifest",
        ),
        ReturnCode(1008011, "file upload failed", True, "upload the package again"),
        ReturnCode(1008012, "uploaded file is empty", False, "upload a non-empty package"),
        ReturnCode(1008013, "certificate could not be parsed", False, _CERT),
        ReturnCode(
            1008015,
            "push id does not exist (or is older than the one-month query window)",
            False,
            "check the pushId in the manifest; tasks older than a month cannot be read",
        ),
        ReturnCode(
            1008016,
            "date parameter has the wrong format",
            False,
            "send dates as YYYY-MM-DD within the last month",
        ),
        ReturnCode(
            1008019,
            "content rejected by the content-safety check",
            False,
            "change the title or content of the message",
        ),
        ReturnCode(1008020, "certificate bundleId check failed", False, _CERT),
        ReturnCode(1008021, "not a valid p12 file", False, _CERT),
        ReturnCode(1008022, "wrong p12 password", False, _CERT),
        ReturnCode(1008023, "iOS push certificate expired for this environment", False, _CERT),
        ReturnCode(
            1008025, "an app for this platform already exists under the product", False, _CONTACT
        ),
        ReturnCode(
            1008026,
            "batch operation partly failed",
            False,
            "inspect the per-item result codes and repeat the failed items",
        ),
        ReturnCode(1008027, "batch operation failed entirely", False, _FIX_BODY),
        ReturnCode(
            1008028,
            "request too fast (statistics over 200/hour, or broadcast push over 1/second)",
            True,
            "wait for the rate-limit window to pass; refresh fewer tasks or use --target",
        ),
        ReturnCode(1008029, "device token is not valid", False, "remove the invalid token"),
        ReturnCode(1008030, "app not paid", False, _CONTACT),
        ReturnCode(1008031, "app expired; its resources were destroyed", False, _CONTACT),
        ReturnCode(
            1008035,
            "AccessID is wrong, or the access point (region domain) is wrong",
            False,
            "check accessId and region/endpoint in pushctl.yaml: an AccessID only works on "
            "the access point where the app was created",
        ),
        ReturnCode(1010001, "no push resources deployed for the app", False, _CONTACT),
        ReturnCode(
            10010005,
            "push target does not exist",
            False,
            "check the audience (tags, accounts, tokens) of the push",
        ),
        ReturnCode(
            10010012,
            "illegal push time (send_time more than 10 minutes in the past, or too far ahead)",
            False,
            "set send_time within the next 90 days, or remove it to send now",
        ),
        ReturnCode(
            10010018,
            "repeated push: the same message went to the same audience within the hour",
            False,
            "change the message or wait an hour",
        ),
        ReturnCode(10030002, "AccessID and AccessKey do not match", False, _CONTACT),
        ReturnCode(
            10110008,
            "the queried token or account does not exist",
            False,
            "check the token or account value",
        ),
    )
}


class ServiceFailure(ApiError):
    """1008004: TPNS failed internally; the call may be retried."""


class AuthFailed(ApiError):
    """1008003 / 10030002 / 1008035: TPNS did not accept the credentials or domain."""


class InvalidRequest(ApiError):
    """1008001 / 1008002 / 1008007 / 1008016: the request or the task state was refused."""


class PushIdNotFound(ApiError):
    """1008015: no task with that push id (or it is older than a month)."""


class RateLimited(ApiError):
    """1008028: TPNS refused the call as too fast; nothing was done."""


_FAMILIES: dict[int, type[ApiError]] = {
    1008001: InvalidRequest,
    1008002: InvalidRequest,
    1008003: AuthFailed,
    1008004: ServiceFailure,
    1008007: InvalidRequest,
    1008015: PushIdNotFound,
    1008016: InvalidRequest,
    1008028: RateLimited,
    1008035: AuthFailed,
    10030002: AuthFailed,
}

_UNKNOWN_HINT = "an undocumented TPNS code; report it with the request id if it persists"


def describe(code: int) -> ReturnCode:
    """Return the table entry for `code`, or a non-retryable placeholder if undocumented."""
    return RETURN_CODES.get(code, ReturnCode(code, "undocumented TPNS code", False, _UNKNOWN_HINT))


def api_error(code: int, message: str, *, path: str) -> ApiError:
    """Build the exception for a non-zero `ret_code`/`retCode` answered by TPNS on `path`."""
    entry = describe(code)
    detail = f": {message}" if message else ""
    text = f"TPNS {path} returned code {code} ({entry.text}){detail}"
    family = _FAMILIES.get(code, ApiError)
    return family(text, code=code, retryable=entry.retryable, path=path, hint=entry.hint)


class HttpStatusError(TransportError):
    """TPNS (or a proxy before it) answered with an HTTP status other than 200."""

    def __init__(self, message: str, *, path: str, status_code: int) -> None:
        super().__init__(message, path=path, maybe_delivered=True)
        self.status_code = status_code
        self.hint = (
            "TPNS-side trouble; retry later and re-check live status first"
            if status_code >= 500
            else "check the endpoint URL and path (TPNS answers business errors with HTTP 200)"
        )


class MalformedResponse(TransportError):
    """TPNS answered HTTP 200 with a body this client cannot read (not the documented JSON)."""

    def __init__(self, message: str, *, path: str, maybe_delivered: bool = True) -> None:
        super().__init__(message, path=path, maybe_delivered=maybe_delivered)
        self.hint = "check that the endpoint is a TPNS v3 access point or the pushctl emulator"
