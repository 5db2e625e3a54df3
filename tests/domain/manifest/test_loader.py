"""load_manifests: files, folders, stdin, located errors, input digest."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.domain.manifest.loader import LOADER_CODES, input_digest, load_manifests
from reconciler.errors import ManifestError, SourceProblem

FIXTURE_TASKS = [
    ("shop-android/bf-teaser", "android/black-friday.yaml", 2),
    ("shop-android/bf-teaser-v2", "android/black-friday.yaml", 32),
    ("shop-android/flash-sale", "android/flash-sale.yml", 1),
    ("shop-ios/welcome-vip", "ios/welcome.yaml", 1),
]


def dump(*documents: Any) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump_all(list(documents), stream)
    return stream.getvalue()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(paths: list[str | Path], **kwargs: Any) -> list[SourceProblem]:
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths, **kwargs)
    return caught.value.problems


def test_sample_folder_loads_every_document_in_sorted_order(fixtures_dir: Path) -> None:
    root = fixtures_dir / "manifests"
    tasks = load_manifests([root])
    assert [(t.address, Path(t.file).relative_to(root).as_posix(), t.line) for t in tasks] == (
        FIXTURE_TASKS
    )
    assert all(t.column == 1 for t in tasks)
    assert tasks[0].task.metadata.labels == {"team": "growth"}
    assert tasks[0].task.spec.push is not None
    assert tasks[0].task.spec.push["send_time"] == "2026-11-20T09:00:00+08:00"


def test_folder_scan_skips_config_hidden_folders_and_other_suffixes(
    tmp_path: Path, make_task: Any
) -> None:
    write(tmp_path, "b.yml", dump(make_task("b")))
    write(tmp_path, "sub/a.yaml", dump(make_task("a")))
    write(tmp_path, "pushctl.yaml", "apps: {}\n")
    write(tmp_path, ".git/x.yaml", "not: a task\n")
    write(tmp_path, "notes.txt", "not: a task\n")
    tasks = load_manifests([tmp_path])
    assert [t.task.metadata.name for t in tasks] == ["b", "a"]


def test_a_file_given_twice_is_read_once(tmp_path: Path, make_task: Any) -> None:
    path = write(tmp_path, "a.yaml", dump(make_task("a")))
    assert len(load_manifests([path, tmp_path, str(path)])) == 1


def test_stdin_and_files_together(tmp_path: Path, make_task: Any) -> None:
    path = write(tmp_path, "a.yaml", dump(make_task("a")))
    stdin = io.StringIO(dump(make_task("b"), make_task("c")))
    tasks = load_manifests(["-", path], stdin=stdin)
    assert [(t.task.metadata.name, t.file, t.line) for t in tasks] == [
        ("b", "<stdin>", 1),
        ("c", "<stdin>", 11),
        ("a", str(path), 1),
    ]


def test_stdin_without_a_stream_is_a_problem() -> None:
    found = problems(["-"])
    assert [(p.file, p.code) for p in found] == [("<stdin>", "manifest.not_found")]


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    found = problems([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [str(p) for p in found] == [
        f"{tmp_path / 'nope.yaml'}:1:1: no such file or folder; check the -f path",
        f"{tmp_path / 'empty'}:1:1: no *.yaml or *.yml files in this folder; check the -f path",
    ]


INVALID_FILE = """\
apiVersion: pushctl/v1
kind: PushTask
metdata:
  name: bf-teaser
  app: shop-android
spec:
  state: active
  push:
    audience_type: all
    message_type: notify
    message:
      title: Sale
      content: Today
      android:
        action: {action_type: 7}
    send_time: 2026-12-01 09:00:00
    collapse_id: 3
---
apiVersion: pushctl/v1
kind: PushTask
metadata: {name: Bad_Name, app: shop-android}
spec:
  state: overridden
  pushId: 12
"""


def test_every_error_is_located_at_file_line_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", INVALID_FILE)
    found = problems([path])
    assert [(p.line, p.column, p.code, p.message) for p in found] == [
        (1, 1, "manifest.schema", "metadata: `metadata` is required here; add it"),
        (
            3,
            1,
            "manifest.unknown_field",
            "metdata: unknown field `metdata` (did you mean `metadata`?); "
            "remove it or fix its name",
        ),
        (
            15,
            18,
            "manifest.push",
            "spec.push.message.android.action.action_type: Input should be 1, 2 or 3 (got 7)",
        ),
        (
            16,
            5,
            "manifest.push",
            "spec.push.send_time: send_time needs ISO 8601 with a UTC offset; write "
            '"2026-12-01T09:00:00+08:00" (pushctl converts it to TPNS wall time)',
        ),
        (
            17,
            5,
            "manifest.push",
            "spec.push.collapse_id: pushctl sets `collapse_id` itself; to replace an earlier "
            "task declare `state: overridden` and `overriddenBy` on that task",
        ),
        (
            21,
            12,
            "manifest.schema",
            "metadata.name: String should match pattern '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' "
            "(got 'Bad_Name')",
        ),
        (
            24,
            3,
            "manifest.schema",
            'spec.pushId: Input should be a valid string (got 12); quote it: "12"',
        ),
    ]
    assert all(p.file == str(path) for p in found)
    assert all(p.code in LOADER_CODES for p in found)


def test_state_rules_of_the_spec_are_located(tmp_path: Path, make_task: Any) -> None:
    path = write(tmp_path, "a.yaml", dump(make_task("a", state="overridden")))
    found = problems([path])
    assert [(p.line, p.column) for p in found] == [(4, 1)]  # the `spec:` key
    assert "requires `overriddenBy" in found[0].message


def test_problems_from_all_files_are_reported_together(tmp_path: Path, make_task: Any) -> None:
    write(tmp_path, "a.yaml", "a: &x 1\n")
    write(tmp_path, "b.yaml", dump(make_task("b"), ["not", "a", "mapping"]))
    write(tmp_path, "c.yaml", dump(make_task("c")))
    found = problems([tmp_path])
    assert [(Path(p.file).name, p.line, p.column, p.code) for p in found] == [
        ("a.yaml", 1, 4, "yaml.unsafe"),
        ("b.yaml", 10, 5, "manifest.schema"),  # `--- [not, a, mapping]`
    ]
    assert found[1].message == "expected a mapping of fields here (got ['not', 'a', 'mapping'])"


def test_other_yaml_is_one_problem_not_a_flood(tmp_path: Path) -> None:
    path = write(tmp_path, "ci.yml", "# CI\nname: plan\non: [push]\njobs: {}\n")
    found = problems([path])
    assert [(p.line, p.column, p.code) for p in found] == [(2, 1, "manifest.foreign")]
    assert found[0].message.startswith("not a PushTask manifest")


def test_a_scalar_document_is_located_at_its_start(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "---\n---\nhello\n")
    found = problems([path])
    assert [(p.line, p.column, p.message) for p in found] == [
        (3, 1, "expected a mapping of fields here (got 'hello')")
    ]


def test_input_digest_is_stable_and_ignores_order_and_location(
    tmp_path: Path, make_task: Any
) -> None:
    write(tmp_path, "one.yaml", dump(make_task("a"), make_task("b")))
    write(tmp_path, "two/b.yaml", dump(make_task("b")))
    write(tmp_path, "two/a.yaml", dump(make_task("a")))
    together = load_manifests([tmp_path / "one.yaml"])
    apart = load_manifests([tmp_path / "two"])
    assert input_digest(together) == input_digest(apart) == input_digest(together[::-1])
    assert len(input_digest(together)) == 64
    changed = load_manifests(["-"], stdin=io.StringIO(dump(make_task("a", state="stopped"))))
    assert input_digest(changed) != input_digest(together[:1])


def test_input_digest_is_the_sha256_of_one_canonical_json_array(
    tmp_path: Path, make_task: Any
) -> None:
    # Hashed a task at a time, the bytes must still be those of the whole sorted array, so a
    # plan saved by an earlier pushctl keeps matching the same manifests.
    write(tmp_path, "t.yaml", dump(make_task("c"), make_task("a", state="stopped"), make_task("b")))
    tasks = load_manifests([tmp_path / "t.yaml"])
    payload = [
        declared.task.model_dump(mode="json", by_alias=True)
        for declared in sorted(tasks, key=lambda declared: declared.address)
    ]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert input_digest(tasks) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
