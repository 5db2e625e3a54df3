"""Loader edges that mutation testing found unguarded: stdin limits and the input digest's form."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from reconciler.domain.manifest.loader import input_digest, load_manifests
from reconciler.domain.manifest.safe_yaml import MAX_FILE_BYTES
from reconciler.errors import ManifestError, SourceProblem

MANIFEST = """\
apiVersion: pushctl/v1
kind: PushTask
metadata: {name: bf, app: shop-android}
spec:
  state: active
  push:
    audience_type: all
    message_type: notify
    message: {title: "Soldes d’été", content: Today only}
"""
#: The canonical JSON the digest is taken of: keys sorted, no spaces, UTF-8 as written. Plans
#: saved by one version are checked against it by the next, so its form must not drift.
CANONICAL = (
    '[{"apiVersion":"pushctl/v1","kind":"PushTask","metadata":{"annotations":{},'
    '"app":"shop-android","labels":{},"name":"bf"},"spec":{"forceCollapse":false,'
    '"overriddenBy":null,"push":{"audience_type":"all","message":{"content":"Today only",'
    '"title":"Soldes d’été"},"message_type":"notify"},"pushId":null,"state":"active"}}]'
)


def problems(paths: list[Any], **kwargs: Any) -> list[SourceProblem]:
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths, **kwargs)
    return caught.value.problems


def test_input_digest_is_sha256_of_the_canonical_json() -> None:
    tasks = load_manifests(["-"], stdin=io.StringIO(MANIFEST))
    assert input_digest(tasks) == hashlib.sha256(CANONICAL.encode("utf-8")).hexdigest()
    assert input_digest(tasks) == "46be42fabdf8a4134cf749678524382cbb77dba3adfe8d82f92a7af1862a3958"


def test_stdin_without_a_stream_is_located_at_its_start() -> None:
    assert [str(p) for p in problems(["-"])] == [
        "<stdin>:1:1: `-` reads manifests from stdin, but no input stream was given"
    ]


def test_stdin_over_one_mebibyte_is_refused_whole() -> None:
    padding = "# " + "x" * MAX_FILE_BYTES + "\n"
    text = padding + "apiVersion: pushctl/v1\n"
    assert [
        (p.file, p.line, p.column, p.code) for p in problems(["-"], stdin=io.StringIO(text))
    ] == [("<stdin>", 1, 1, "yaml.too_large")]


def test_stdin_bytes_that_are_not_utf8_are_located() -> None:
    """A terminal hands undecodable bytes over as lone surrogates (surrogateescape)."""
    raw = b"apiVersion: pushctl/v1\nkind: \xff\n"
    stdin = io.StringIO(raw.decode("utf-8", "surrogateescape"))
    assert [str(p) for p in problems(["-"], stdin=stdin)] == [
        "<stdin>:2:7: byte 0xff is not UTF-8; save the file as UTF-8"
    ]


def test_stdin_at_exactly_one_mebibyte_is_read() -> None:
    document = f"{MANIFEST}# "
    text = document + "x" * (MAX_FILE_BYTES - len(document.encode("utf-8")) - 1) + "\n"
    assert len(text.encode("utf-8")) == MAX_FILE_BYTES
    [task] = load_manifests(["-"], stdin=io.StringIO(text))
    assert task.address == "shop-android/bf"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_and_empty_paths_carry_their_codes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    found = problems([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [p.code for p in found] == ["manifest.not_found", "manifest.no_files"]


def test_every_file_is_read_past_a_repeated_or_oversized_one(tmp_path: Path) -> None:
    first = write(tmp_path / "a.yaml", MANIFEST)
    second = write(tmp_path / "b.yaml", MANIFEST.replace("name: bf", "name: bg"))
    assert len(load_manifests([first, first, second])) == 2
    big = write(tmp_path / "big.yaml", "# " + "x" * MAX_FILE_BYTES)
    found = problems([big, tmp_path / "c.yaml"])
    assert [(Path(p.file).name, p.code) for p in found] == [
        ("big.yaml", "yaml.too_large"),
        ("c.yaml", "manifest.not_found"),
    ]


def test_documents_after_a_foreign_one_are_still_checked(tmp_path: Path) -> None:
    text = "name: ci\n---\napiVersion: pushctl/v1\n---\nkind: PushTask\n"
    found = problems([write(tmp_path / "m.yaml", text)])
    assert [(p.line, p.code, p.message.split(";")[0]) for p in found] == [
        (
            1,
            "manifest.foreign",
            "not a PushTask manifest (no `apiVersion: pushctl/v1` and `kind: PushTask`)",
        ),
        (3, "manifest.schema", "kind: `kind` is required here"),
        (3, "manifest.schema", "metadata: `metadata` is required here"),
        (3, "manifest.schema", "spec: `spec` is required here"),
        (5, "manifest.schema", "apiVersion: `apiVersion` is required here"),
        (5, "manifest.schema", "metadata: `metadata` is required here"),
        (5, "manifest.schema", "spec: `spec` is required here"),
    ]
    assert found[0].message.endswith("move this file out of the -f path or add both keys")


def test_a_task_is_located_at_its_document_column() -> None:
    flow = (
        "--- {apiVersion: pushctl/v1, kind: PushTask, metadata: {name: bf, app: shop-android},"
        " spec: {state: active, pushId: '5'}}\n"
    )
    [task] = load_manifests(["-"], stdin=io.StringIO(flow))
    assert (task.line, task.column) == (1, 5)
