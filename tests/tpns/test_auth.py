"""Signature and Basic auth: the published test vectors and the headers sent."""

from __future__ import annotations

import base64
import pickle

import httpx
import pytest

from reconciler.tpns.auth import BasicAuth, Secret, SignatureAuth, basic_authorization, sign

SECRET = Secret("1452fcebae9f3115ba794fb0fff2fd73")
ACCESS_ID = "1500001048"
TIMESTAMP = 1565314789
_MESSAGE = (
    '"message": {"title": "test title","content": "test content","android": '
    '{ "action": {"action_type": 3,"intent": "xgscheme://com.xg.push/notify_detail?param1=xg"}}},'
    '"message_type": "notify","account_list": ["5822f0eee44c3625ef0000bb"] }'
)
BODY_WITH_PLATFORM = ('{"audience_type": "account","platform": "android",' + _MESSAGE).encode()
BODY_WITHOUT_PLATFORM = ('{"audience_type": "account",' + _MESSAGE).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            BODY_WITH_PLATFORM,
            "Y2QyMDc3NDY4MmJmNzhiZmRiNDNlMTdkMWQ1ZDU2YjNlNWI3ODlhMTY3MGZjMTUyN2VmNTRjNjVkMmQ3Yjc2ZA==",
        ),
        (
            BODY_WITHOUT_PLATFORM,
            "MDlmMDdkMmE1MThhODgxNGUzNjlkY2Q5NTM0ZjEwYjhhMjlkMTI4NTMxYTE5YWRhYTI4Y2IyNDc2MDVjMWU4NA==",
        ),
    ],
)
def test_sign_matches_published_vectors(body: bytes, expected: str) -> None:
    assert sign(SECRET, timestamp=TIMESTAMP, access_id=ACCESS_ID, body=body) == expected


def test_sign_is_base64_of_lowercase_hex() -> None:
    value = sign(SECRET, timestamp=TIMESTAMP, access_id=ACCESS_ID, body=b"{}")
    decoded = base64.b64decode(value).decode("ascii")
    assert len(value) == 88
    assert len(decoded) == 64
    assert decoded == decoded.lower()


def test_signature_auth_signs_the_exact_body_sent() -> None:
    auth = SignatureAuth(access_id=ACCESS_ID, secret=SECRET, clock=lambda: TIMESTAMP + 0.9)
    request = httpx.Request("POST", "https://example.test/v3/push/app", content=BODY_WITH_PLATFORM)
    signed = next(auth.auth_flow(request))
    assert signed.headers["AccessId"] == ACCESS_ID
    assert signed.headers["TimeStamp"] == str(TIMESTAMP)
    assert signed.headers["Sign"].startswith("Y2QyMDc3NDY4")
    assert "Authorization" not in signed.headers


def test_basic_auth_header() -> None:
    request = httpx.Request("POST", "https://example.test/v3/push/app", content=b"{}")
    signed = next(BasicAuth(access_id=ACCESS_ID, secret=SECRET).auth_flow(request))
    expected = base64.b64encode(b"1500001048:1452fcebae9f3115ba794fb0fff2fd73").decode()
    assert signed.headers["Authorization"] == f"Basic {expected}"
    assert basic_authorization(ACCESS_ID, SECRET) == f"Basic {expected}"


def test_secret_is_redacted_everywhere_but_reveal(canary: Secret) -> None:
    value = canary.reveal()
    assert value not in repr(canary)
    assert value not in str(canary)
    assert value not in f"{canary}"
    assert value not in repr([canary])
    auth = SignatureAuth(access_id=ACCESS_ID, secret=canary, clock=lambda: 0.0)
    assert value not in repr(auth)
    assert value not in repr(BasicAuth(access_id=ACCESS_ID, secret=canary))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(canary)


def test_secret_equality_compares_values() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert hash(Secret("a")) == hash(Secret("a"))
