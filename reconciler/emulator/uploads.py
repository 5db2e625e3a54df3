"""`/v3/push/package/upload` (reference section 4.10): read the multipart `file` part and check it.

A package is a `.txt` or `.csv` file (one entry per line, one column), or a `.zip` holding exactly
one such file and no folders; at most 100 MB, name of 1-100 characters, entries of 2-100
characters (accounts; tokens are 36). An empty package is 1008012; every other defect of the file
is the configured `upload_format` code (1008011, "upload file error").
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message

from reconciler.emulator.refusals import (
    MISSING_PARAMETER,
    PARSE_ERROR,
    UPLOAD_EMPTY,
    Refusal,
)
from reconciler.emulator.settings import EmulatorSettings

PACKAGE_SUFFIXES = (".txt", ".csv")
FILE_FIELD = "file"


@dataclass(frozen=True)
class Package:
    """What the emulator keeps of an uploaded package: enough to check a later package push."""

    file_name: str
    entry_count: int
    shortest: int
    longest: int


def _header_params(name: str, value: str) -> Message:
    holder = Message()
    holder[name] = value
    return holder


def multipart_parts(content_type: str, body: bytes) -> Iterator[tuple[Message, bytes]]:
    """(headers, data) of each part of a multipart/form-data body; 1008001 if it is not one."""
    boundary = _header_params("content-type", content_type).get_param("boundary")
    if not content_type.lower().startswith("multipart/form-data") or not isinstance(boundary, str):
        raise Refusal(PARSE_ERROR, "the upload must be multipart/form-data with a boundary")
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(chunks) < 3:
        raise Refusal(PARSE_ERROR, "the multipart body has no complete part")
    for chunk in chunks[1:-1]:
        head, separator, data = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise Refusal(PARSE_ERROR, "a multipart part has no header block")
        headers = Message()
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip()] = value.strip()
        yield headers, data


def read_package(content_type: str, body: bytes) -> tuple[str, bytes]:
    """The (file name, bytes) of the `file` part; 1008002 when there is none."""
    for headers, data in multipart_parts(content_type, body):
        disposition = headers.get("content-disposition", "")
        params = _header_params("content-disposition", disposition)
        if params.get_param("name", header="content-disposition") == FILE_FIELD:
            name = params.get_filename()
            return ("" if name is None else str(name)), data
    raise Refusal(MISSING_PARAMETER, "the upload needs a multipart part named `file`")


def check_package(name: str, data: bytes, *, settings: EmulatorSettings) -> Package:
    """Validate one uploaded package file; raise the documented refusal otherwise."""
    bad = settings.refusal_code("upload_format")
    if not 1 <= len(name) <= settings.max_upload_name_chars:
        raise Refusal(bad, f"the file name must have 1-100 characters, got {len(name)}")
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in (".zip", *PACKAGE_SUFFIXES):
        raise Refusal(bad, f"{name!r} is not a .zip, .txt or .csv file")
    if len(data) > settings.max_upload_bytes:
        raise Refusal(bad, f"{name!r} has {len(data)} bytes; the limit is 100 MB")
    if not data:
        raise Refusal(UPLOAD_EMPTY, f"{name!r} is empty")
    if suffix == ".zip":
        name, data = _unzip(name, data, settings=settings)
        suffix = name[name.rfind(".") :].lower()
    entries = _entries(name, data, csv_file=suffix == ".csv", settings=settings)
    lengths = [len(entry) for entry in entries]
    return Package(name, len(entries), min(lengths), max(lengths))


def _unzip(name: str, data: bytes, *, settings: EmulatorSettings) -> tuple[str, bytes]:
    bad = settings.refusal_code("upload_format")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise Refusal(bad, f"{name!r} is not a readable zip file") from exc
    with archive:
        members = archive.infolist()
        if any(member.is_dir() or "/" in member.filename for member in members):
            raise Refusal(bad, f"{name!r} holds folders; a package zip holds one file")
        if len(members) != 1 or not members[0].filename.lower().endswith(PACKAGE_SUFFIXES):
            raise Refusal(bad, f"{name!r} must hold exactly one .txt or .csv file")
        member = members[0]
        if member.file_size > settings.max_upload_bytes:
            raise Refusal(bad, f"{member.filename!r} unpacks past the 100 MB limit")
        return member.filename, archive.read(member)


def _entries(name: str, data: bytes, *, csv_file: bool, settings: EmulatorSettings) -> list[str]:
    bad = settings.refusal_code("upload_format")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refusal(bad, f"{name!r} is not UTF-8 text") from exc
    rows = csv.reader(io.StringIO(text)) if csv_file else ([line] for line in text.splitlines())
    entries: list[str] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if len(cells) > 1:
            raise Refusal(bad, f"{name!r} line {number} has {len(cells)} columns; one is allowed")
        if cells:
            entries.append(cells[0])
    if not entries:
        raise Refusal(UPLOAD_EMPTY, f"{name!r} holds no entries")
    for number, entry in enumerate(entries, start=1):
        if not settings.min_account_length <= len(entry) <= settings.max_account_length:
            raise Refusal(bad, f"{name!r} entry {number} has {len(entry)} characters (2-100)")
    return entries


def content_type_of(headers: Mapping[str, str]) -> str:
    lowered = {key.lower(): value for key, value in headers.items()}
    return lowered.get("content-type", "")
