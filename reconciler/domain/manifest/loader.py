"""Loading PushTask manifests from files, folders and stdin (docs/design.md).

Every problem of every file is collected and raised once as ManifestError, each located at
file:line:column. Reading files is the only I/O here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.domain.manifest.hints import describe, dotted
from reconciler.domain.manifest.models import DeclaredTask, PushTask
from reconciler.domain.manifest.push_body import PushBodyError
from reconciler.domain.manifest.safe_yaml import (
    MAX_FILE_BYTES,
    Locator,
    YamlDocument,
    YamlProblems,
    decode_source,
    load_yaml_text,
    read_source,
)
from reconciler.errors import ManifestError, SourceProblem

STDIN = "-"
STDIN_NAME = "<stdin>"
#: Never read as a manifest when a folder is scanned: it is the configuration.
CONFIG_FILE_NAME = "pushctl.yaml"

#: Problem codes the loader reports (SourceProblem.code).
LOADER_CODES: dict[str, str] = {
    "manifest.not_found": "a -f path does not exist",
    "manifest.no_files": "a folder holds no *.yaml / *.yml file",
    "manifest.foreign": "a YAML mapping with neither apiVersion nor kind: not a manifest",
    "manifest.schema": "a field has the wrong type or value, or a required field is missing",
    "manifest.unknown_field": "a key that the PushTask kind does not define",
    "manifest.push": "spec.push breaks the TPNS /v3/push/app rules (reference section 4)",
    "yaml.syntax": "the file is not well-formed YAML",
    "yaml.unsafe": "anchor, alias, tag, merge key, duplicate key, complex key or deep nesting",
    "yaml.too_large": "the file is over 1 MiB",
    "yaml.encoding": "the file is not UTF-8",
    "yaml.io": "the file cannot be read",
}


def load_manifests(
    paths: Sequence[str | Path], *, stdin: TextIO | None = None
) -> list[DeclaredTask]:
    """Every PushTask of `paths` ("-" = stdin, a folder = its YAML files, recursively, sorted).

    Raises ManifestError with every problem found in any file.
    """
    problems: list[SourceProblem] = []
    tasks: list[DeclaredTask] = []
    for name, text in _sources(paths, stdin, problems):
        tasks.extend(_load_source(name, text, problems))
    if problems:
        raise ManifestError(problems)
    return tasks


def manifest_files(folder: Path) -> list[Path]:
    """The manifest files under a folder, sorted; hidden folders and pushctl.yaml are skipped."""
    found: list[Path] = []
    # os.walk (scandir) rather than Path.rglob: no stat call per file, hidden folders pruned.
    for parent, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found.extend(
            Path(parent, name)
            for name in names
            if name.endswith((".yaml", ".yml")) and name != CONFIG_FILE_NAME
        )
    return sorted(found)


def _sources(
    paths: Sequence[str | Path], stdin: TextIO | None, problems: list[SourceProblem]
) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for given in paths:
        if str(given) == STDIN:
            yield from _stdin_source(stdin, problems)
            continue
        for path in _expand(Path(given), problems):
            # abspath is string work only; resolve() would cost two syscalls per file.
            key = os.path.abspath(path)
            if key in seen:
                continue
            seen.add(key)
            try:
                yield str(path), read_source(path)
            except YamlProblems as exc:
                problems.extend(exc.problems)


def _expand(path: Path, problems: list[SourceProblem]) -> list[Path]:
    if path.is_dir():
        files = manifest_files(path)
        if not files:
            message = "no *.yaml or *.yml files in this folder; check the -f path"
            problems.append(SourceProblem(str(path), 1, 1, message, "manifest.no_files"))
        return files
    if path.is_file():
        return [path]
    message = "no such file or folder; check the -f path"
    problems.append(SourceProblem(str(path), 1, 1, message, "manifest.not_found"))
    return []


def _stdin_source(stdin: TextIO | None, problems: list[SourceProblem]) -> Iterator[tuple[str, str]]:
    if stdin is None:
        message = "`-` reads manifests from stdin, but no input stream was given"
        problems.append(SourceProblem(STDIN_NAME, 1, 1, message, "manifest.not_found"))
        return
    text = stdin.read(MAX_FILE_BYTES + 1)
    try:
        # Re-check size and encoding on the bytes, as for files.
        yield STDIN_NAME, decode_source(text.encode("utf-8", "surrogateescape"), STDIN_NAME)
    except YamlProblems as exc:
        problems.extend(exc.problems)


def _load_source(name: str, text: str, problems: list[SourceProblem]) -> list[DeclaredTask]:
    try:
        documents = load_yaml_text(text, name)
    except YamlProblems as exc:
        problems.extend(exc.problems)
        return []
    tasks: list[DeclaredTask] = []
    failures: list[tuple[tuple[int, YamlDocument], ValidationError]] = []
    for index, document in enumerate(documents):
        if _foreign(document.data):
            message = (
                "not a PushTask manifest (no `apiVersion: pushctl/v1` and `kind: PushTask`); "
                "move this file out of the -f path or add both keys"
            )
            problems.append(
                SourceProblem(name, document.line, document.column, message, "manifest.foreign")
            )
            continue
        try:
            task = PushTask.model_validate(document.data)
        except ValidationError as exc:
            failures.append(((index, document), exc))
            continue
        tasks.append(DeclaredTask(task=task, file=name, line=document.line, column=document.column))
    if failures:
        # The slow path: only now re-parse, with positions, to locate each error.
        locator = Locator(text)
        located: list[SourceProblem] = []
        for failed, error in failures:
            located.extend(validation_problems(name, locator, failed, error, PushTask))
        problems.extend(sorted(located, key=lambda problem: (problem.line, problem.column)))
    return tasks


def _foreign(data: Any) -> bool:
    """A mapping with neither apiVersion nor kind: some other YAML (a CI file, say)."""
    return isinstance(data, dict) and "apiVersion" not in data and "kind" not in data


def validation_problems(
    name: str,
    locator: Locator,
    document: tuple[int, YamlDocument],
    exc: ValidationError,
    model: type[BaseModel],
    *,
    area: str = "manifest",
) -> list[SourceProblem]:
    """One located SourceProblem per pydantic error (push body errors expanded).

    `area` prefixes the problem codes: `manifest.schema`, `config.schema`, ...
    """
    index, located = document
    root = (located.line, located.column)
    problems: list[SourceProblem] = []
    for error in exc.errors(include_url=False):
        for path, message, code in _explain(error, model):
            line, column = locator.position(index, path, root=root)
            where = dotted("", path)
            text = f"{where}: {message}" if where else message
            problems.append(SourceProblem(name, line, column, text, f"{area}.{code}"))
    return problems


def _explain(
    error: ErrorDetails, model: type[BaseModel]
) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    loc = tuple(error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, PushBodyError):
        for problem in cause.problems:
            yield (*loc, *problem.path), problem.message, "push"
        return
    code = "unknown_field" if error["type"] == "extra_forbidden" else "schema"
    yield loc, describe(error, model), code


def input_digest(tasks: Sequence[DeclaredTask]) -> str:
    """SHA-256 of the canonical JSON of the desired tasks, sorted by address.

    Where a task is declared (file, line) is left out: moving a task between files does not
    change the desired input.
    """
    # The bytes of one canonical JSON array, hashed a task at a time: 10,000 tasks never sit in
    # memory as dicts and text at once.
    digest = hashlib.sha256(b"[")
    ordered = sorted(tasks, key=lambda declared: declared.address)
    for index, declared in enumerate(ordered):
        item = declared.task.model_dump(mode="json", by_alias=True)
        text = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest.update(f"{',' if index else ''}{text}".encode())
    digest.update(b"]")
    return digest.hexdigest()
