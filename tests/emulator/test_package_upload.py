"""/v3/push/package/upload (reference section 4.10): what is accepted, what is refused, and how."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from reconciler.emulator import EmulatorCore, EmulatorSettings, ManualClock, create_app

from .conftest import ANDROID, UPLOAD, Tpns, notify, signed_headers


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def refused(code: int, message: str) -> dict[str, object]:
    return {"retCode": code, "errMsg": message}


ACCEPTED = [
    ("accounts.txt", b"alice\nbob\n\ncarol\n"),
    ("ACCOUNTS.CSV", b"\xef\xbb\xbfalice\r\nbob\r\n"),
    ("accounts.zip", zipped({"accounts.txt": b"alice\nbob\n"})),
    ("a" * 96 + ".csv", b"alice\n"),
]


@pytest.mark.parametrize(("name", "data"), ACCEPTED)
async def test_packages_of_every_documented_kind_get_an_upload_id(
    tpns: Tpns, name: str, data: bytes
) -> None:
    assert await tpns.upload(name, data) == {"retCode": 0, "errMsg": "NO_ERROR", "uploadId": 1}
    assert (await tpns.upload(name, data))["uploadId"] == 2


REFUSED = [
    ("accounts.xlsx", b"alice\n", 1008011, "'accounts.xlsx' is not a .zip, .txt or .csv file"),
    ("accounts", b"alice\n", 1008011, "'accounts' is not a .zip, .txt or .csv file"),
    ("a" * 97 + ".csv", b"alice\n", 1008011, "the file name must have 1-100 characters, got 101"),
    ("empty.txt", b"", 1008012, "'empty.txt' is empty"),
    ("blank.txt", b"\n \n", 1008012, "'blank.txt' holds no entries"),
    ("two.csv", b"alice,bob\n", 1008011, "'two.csv' line 1 has 2 columns; one is allowed"),
    ("short.txt", b"alice\nb\n", 1008011, "'short.txt' entry 2 has 1 characters (2-100)"),
    ("long.txt", b"x" * 101, 1008011, "'long.txt' entry 1 has 101 characters (2-100)"),
    ("latin.txt", b"caf\xe9\n", 1008011, "'latin.txt' is not UTF-8 text"),
    ("bad.zip", b"PK not a zip", 1008011, "'bad.zip' is not a readable zip file"),
    (
        "two.zip",
        zipped({"a.txt": b"alice\n", "b.txt": b"bob\n"}),
        1008011,
        "'two.zip' must hold exactly one .txt or .csv file",
    ),
    (
        "folder.zip",
        zipped({"dir/a.txt": b"alice\n"}),
        1008011,
        "'folder.zip' holds folders; a package zip holds one file",
    ),
    (
        "pdf.zip",
        zipped({"a.pdf": b"alice\n"}),
        1008011,
        "'pdf.zip' must hold exactly one .txt or .csv file",
    ),
]


@pytest.mark.parametrize(("name", "data", "code", "detail"), REFUSED)
async def test_packages_are_refused_as_documented(
    tpns: Tpns, name: str, data: bytes, code: int, detail: str
) -> None:
    base = "upload empty file" if code == 1008012 else "upload file error"
    assert await tpns.upload(name, data) == refused(code, f"{base}: {detail}")


async def test_size_limit_is_checked(clock: ManualClock) -> None:
    core = EmulatorCore(clock=clock, settings=EmulatorSettings(max_upload_bytes=10))
    core.add_app(ANDROID)
    transport = httpx.ASGITransport(app=create_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        tpns = Tpns(client, clock)
        assert (await tpns.upload("ok.txt", b"alice\nbob\n"))["retCode"] == 0
        assert await tpns.upload("big.txt", b"alice\nbob\nx\n") == refused(
            1008011, "upload file error: 'big.txt' has 12 bytes; the limit is 100 MB"
        )


async def test_upload_without_a_file_part_or_multipart_body(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    request = httpx.Request("POST", "http://emulator" + UPLOAD, files={"upload": ("a.txt", b"x")})
    raw = request.read()
    headers = signed_headers(ANDROID, raw, int(clock.now().timestamp()))
    headers["Content-Type"] = request.headers["content-type"]
    reply = (await client.post(UPLOAD, content=raw, headers=headers)).json()
    assert reply == refused(
        1008002, "missing parameter: the upload needs a multipart part named `file`"
    )
    json_body = b'{"file": "accounts.txt"}'
    headers = signed_headers(ANDROID, json_body, int(clock.now().timestamp()))
    reply = (await client.post(UPLOAD, content=json_body, headers=headers)).json()
    assert reply == refused(
        1008001, "paramter parse error: the upload must be multipart/form-data with a boundary"
    )


async def test_package_token_push_needs_token_sized_entries(tpns: Tpns) -> None:
    accounts = (await tpns.upload("accounts.txt", b"alice\n" + b"x" * 37))["uploadId"]
    reply = await tpns.push(notify("package_token_push", upload_id=accounts))
    assert reply == {
        "seq": 0,
        "ret_code": 1008007,
        "err_msg": "invalid parameter: package 'accounts.txt' holds entries of 37 characters; "
        "tokens have at most 36",
    }


async def test_upload_enters_the_ledger_by_size(tpns: Tpns, core: EmulatorCore) -> None:
    await tpns.upload("accounts.txt", b"alice\n")
    (entry,) = core.ledger()
    assert entry["path"] == UPLOAD
    assert entry["ret_code"] == 0
    assert entry["body"]["multipart_bytes"] > len(b"alice\n")


async def test_issued_upload_id_check_can_be_switched_off(clock: ManualClock) -> None:
    core = EmulatorCore(clock=clock, settings=EmulatorSettings(require_issued_upload_id=False))
    core.add_app(ANDROID)
    transport = httpx.ASGITransport(app=create_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        reply = await Tpns(client, clock).push(notify("package_account_push", upload_id=42))
        assert reply["ret_code"] == 0
