"""The answer envelopes of the emulated TPNS (reference section 3), one builder per family.

snake_case (`/v3/push/*`): `seq`, `ret_code`, `err_msg`; a successful push carries every key of
a recorded TPNS answer, in its order. camelCase (statistics, package upload): `retCode`, `errMsg`.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.settings import EmulatorSettings

PUSH_PATH = "/v3/push/app"
UPLOAD_PATH = "/v3/push/package/upload"
RECORD_PATH = "/v3/statistics/get_push_record"


def is_camel_case(path: str) -> bool:
    """Statistics and the package upload answer retCode/errMsg; the other /v3/push/* snake_case."""
    return path.startswith("/v3/statistics/") or path == UPLOAD_PATH


def envelope(
    path: str, *, code: int, message: str, seq: int, settings: EmulatorSettings
) -> dict[str, Any]:
    """The code and message part of an answer; a success says `settings.success_err_msg`."""
    text = message if code else settings.success_err_msg
    if is_camel_case(path):
        return {"retCode": code, "errMsg": text}
    return {"seq": seq, "ret_code": code, "err_msg": text}


def push_result(accepted_tokens: int | None) -> str:
    """`result`: one 0 per accepted token for token pushes, "{}" otherwise; compact JSON."""
    if accepted_tokens is None:
        return "{}"
    return json.dumps([0] * accepted_tokens, separators=(",", ":"))


def answer(
    path: str,
    *,
    code: int,
    message: str,
    seq: int,
    payload: dict[str, Any],
    settings: EmulatorSettings,
) -> dict[str, Any]:
    """The whole JSON answer of one API call."""
    head = envelope(path, code=code, message=message, seq=seq, settings=settings)
    if path != PUSH_PATH or code:
        return {**head, **payload}
    # The shape of a real answer: {"seq":0,"push_id":"572728156","ret_code":0,
    # "environment":"product","err_msg":"NO_ERROR","err_msg_zh":"","result":"{}",
    # "invalid_targe_list":[]}; push_id is a list for loop pushes.
    return {
        "seq": seq,
        "push_id": payload["push_id"],
        "ret_code": 0,
        "environment": payload["environment"],
        "err_msg": head["err_msg"],
        "err_msg_zh": "",
        "result": payload["result"],
        "invalid_targe_list": payload["invalid_targe_list"],
    }
