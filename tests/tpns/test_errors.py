"""Every documented TPNS code maps to an ApiError with meaning, retry flag and next step."""

from __future__ import annotations

import pytest

from reconciler.errors import ApiError
from reconciler.tpns.errors import (
    RETURN_CODES,
    AuthFailed,
    InvalidRequest,
    PushIdNotFound,
    RateLimited,
    ServiceFailure,
    api_error,
)

#: Section 7 of the reference, in order.
DOCUMENTED = [
    1008001, 1008002, 1008003, 1008004, 1008006, 1008007, 1008011, 1008012, 1008013,
    1008015, 1008016, 1008019, 1008020, 1008021, 1008022, 1008023, 1008025, 1008026,
    1008027, 1008028, 1008029, 1008030, 1008031, 1008035, 1010001, 10010005, 10010012,
    10010018, 10030002, 10110008,
]  # fmt: skip

RETRYABLE = {1008004, 1008011, 1008028}


def test_table_covers_exactly_the_documented_codes() -> None:
    assert sorted(RETURN_CODES) == sorted(DOCUMENTED)


@pytest.mark.parametrize("code", DOCUMENTED)
def test_every_code_maps_to_an_actionable_api_error(code: int) -> None:
    error = api_error(code, "server says no", path="/v3/push/app")
    assert isinstance(error, ApiError)
    assert error.code == code
    assert error.path == "/v3/push/app"
    assert error.retryable is (code in RETRYABLE)
    assert str(code) in str(error)
    assert "/v3/push/app" in str(error)
    assert "server says no" in str(error)
    assert error.hint, "every code tells the reader what to do next"
    assert RETURN_CODES[code].text in str(error)


@pytest.mark.parametrize(
    ("code", "family"),
    [
        (1008003, AuthFailed),
        (1008035, AuthFailed),
        (10030002, AuthFailed),
        (1008004, ServiceFailure),
        (1008007, InvalidRequest),
        (1008015, PushIdNotFound),
        (1008028, RateLimited),
    ],
)
def test_families(code: int, family: type[ApiError]) -> None:
    assert type(api_error(code, "", path="/p")) is family


def test_unknown_code_is_a_plain_non_retryable_api_error() -> None:
    error = api_error(4242, "mystery", path="/v3/push/app")
    assert type(error) is ApiError
    assert not error.retryable
    assert "undocumented" in str(error)


def test_empty_server_message_reads_cleanly() -> None:
    message = str(api_error(1008003, "", path="/v3/push/app")).splitlines()[0]
    assert message == "TPNS /v3/push/app returned code 1008003 (authentication failed)"
