"""TPNS return codes the emulator emits, and the exception rules raise to refuse a request."""

from __future__ import annotations

OK = 0
PARSE_ERROR = 1008001
MISSING_PARAMETER = 1008002
AUTH_FAILURE = 1008003
SERVICE_ERROR = 1008004
INVALID_PARAMETER = 1008007
UPLOAD_FAILED = 1008011
UPLOAD_EMPTY = 1008012
PUSH_ID_NOT_EXIST = 1008015
DATE_FORMAT_ERROR = 1008016
CONTENT_REJECTED = 1008019
IOS_CERT_EXPIRED = 1008023
TOO_FAST = 1008028
TOKEN_NOT_VALID = 1008029
WRONG_ACCESS_ID = 1008035
ILLEGAL_PUSH_TIME = 10010012
PUSH_REPEAT = 10010018

MESSAGES: dict[int, str] = {
    OK: "",
    PARSE_ERROR: "paramter parse error",
    MISSING_PARAMETER: "missing parameter",
    AUTH_FAILURE: "auth failure",
    SERVICE_ERROR: "invoke service error",
    INVALID_PARAMETER: "invalid parameter",
    UPLOAD_FAILED: "upload file error",
    UPLOAD_EMPTY: "upload empty file",
    PUSH_ID_NOT_EXIST: "push id not exist",
    DATE_FORMAT_ERROR: "date param format error",
    CONTENT_REJECTED: "content may be evil",
    IOS_CERT_EXPIRED: "ios push cert was expired for the environment: PRODUCT",
    TOO_FAST: "request too fast",
    TOKEN_NOT_VALID: "token is not valid",
    WRONG_ACCESS_ID: "accessId is not correct or domain not correct",
    ILLEGAL_PUSH_TIME: "illegal push time",
    PUSH_REPEAT: "Push repeat",
}


class Refusal(Exception):
    """A business error: answered as HTTP 200 with this ret_code and a message naming the cause."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        base = MESSAGES.get(code, "error")
        super().__init__(f"{base}: {detail}" if detail else base)

    @property
    def message(self) -> str:
        return str(self)
