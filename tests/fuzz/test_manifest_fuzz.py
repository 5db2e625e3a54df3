"""The manifest fuzzer: thousands of generated files through load, validate, plan and render.

Invariants for every input: no traceback (only ManifestError, located), every problem and
diagnostic at a file:line:column inside the file, no network call, under 1 s of CPU and
200 MB of Python memory. Seeded (`derandomize`), so a run is repeatable; `make soak` runs
PUSHCTL_FUZZ_SCALE times as many inputs.
"""

from __future__ import annotations

import os
import re
import resource
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.domain.manifest.config import ConfigFileError, load_config
from reconciler.domain.manifest.loader import input_digest, load_manifests
from reconciler.domain.manifest.models import PushctlConfig
from reconciler.domain.manifest.validate import validate_tasks
from reconciler.domain.plan import Diagnostic, Plan
from reconciler.domain.planner import PlanOptions, plan
from reconciler.errors import ManifestError, SourceProblem
from reconciler.records import StateSnapshot
from reconciler.render import render_diagnostics_text, render_plan_json, render_plan_text

from .strategies import bombs, dump, hostile_text, mutated_documents, mutated_text, valid_files

SCALE = int(os.environ.get("PUSHCTL_FUZZ_SCALE", "1"))
#: Inputs per run of `make test`, by kind: 2,100 in all, plus the bombs.
EXAMPLES = {"valid": 600, "mutated documents": 400, "mutated text": 600, "hostile": 500}
CPU_SECONDS = 1.0
PEAK_BYTES = 200 * 1024 * 1024
#: Inputs larger than this also get their Python memory traced (slow, so only where it counts).
TRACED_BYTES = 64 * 1024
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
CONFIG = PushctlConfig.model_validate(
    {
        "apps": {
            "shop-android": {
                "accessId": "1500001048",
                "platform": "android",
                "region": "ap-guangzhou",
                "secretKeyEnv": "SHOP_ANDROID_SECRET_KEY",
                "capabilities": {"recall": True},
            },
            "shop-ios": {
                "accessId": "1600001048",
                "platform": "ios",
                "region": "ap-guangzhou",
                "secretKeyEnv": "SHOP_IOS_SECRET_KEY",
            },
        }
    }
)
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every connect attempt, recorded and refused: the loader and planner must make none."""
    attempts: list[Any] = []

    def refuse(_socket: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("the manifest fuzzer allows no network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
    assert attempts == []


class Bounds:
    """Where a problem may point: lines and columns that exist in the file."""

    def __init__(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace")
        self.lines = len(_LINE_BREAKS.findall(text)) + 1
        # Columns count characters (or bytes, for bytes that are not UTF-8): a byte line is
        # never shorter than the characters on it.
        self.columns = max(len(line) for line in raw.split(b"\n")) + 1

    def check(self, what: str, line: int, column: int) -> None:
        assert 1 <= line <= self.lines, f"{what}: line {line} of {self.lines}"
        assert 1 <= column <= self.columns, f"{what}: column {column} past {self.columns}"


def exercise(path: Path, raw: bytes, *, trace_memory: bool = False) -> None:
    """Load, validate, plan and render one file within the CPU and memory bounds.

    CPU is measured untraced (tracemalloc slows Python code several times); the peak of
    Python memory is traced for the large inputs, and bounded by the process's peak RSS
    for the rest.
    """
    path.write_bytes(raw)
    rss_before = _peak_rss()
    started = time.process_time()
    _load_to_output(path, Bounds(raw))
    cpu = time.process_time() - started
    assert cpu < CPU_SECONDS, f"{cpu:.2f} s of CPU for {len(raw)} bytes"
    assert _peak_rss() - rss_before < PEAK_BYTES, f"peak RSS grew 200 MB for {len(raw)} bytes"
    if trace_memory:
        tracemalloc.start()
        try:
            _load_to_output(path, Bounds(raw))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < PEAK_BYTES, f"{peak / 1e6:.0f} MB peak for {len(raw)} bytes"


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _load_to_output(path: Path, bounds: Bounds) -> None:
    try:
        tasks = load_manifests([path])
    except ManifestError as exc:
        refused: ManifestError | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.problems, "a ManifestError with no problem"
        for problem in refused.problems:
            _located(problem, path, bounds)
        str(refused).encode("utf-8")  # what the CLI prints must be printable
        return
    diagnostics = validate_tasks(tasks, CONFIG)
    for diagnostic in diagnostics:
        _diagnosed(diagnostic, path, bounds)
    render_diagnostics_text(diagnostics, task_count=len(tasks)).encode("utf-8")
    if any(d.severity == "error" for d in diagnostics):
        return
    options = PlanOptions(config=CONFIG, tool_version="0.0.0", input_digest=input_digest(tasks))
    result = plan(tasks, {}, StateSnapshot(lineage="fuzz", serial=0), NOW, options)
    for diagnostic in result.diagnostics:
        _diagnosed(diagnostic, path, bounds)
    render_plan_text(result).encode("utf-8")
    assert Plan.from_json(render_plan_json(result)) == result


def _located(problem: SourceProblem, path: Path, bounds: Bounds) -> None:
    assert problem.file == str(path)
    assert problem.message
    bounds.check(problem.message, problem.line, problem.column)


def _diagnosed(diagnostic: Diagnostic, path: Path, bounds: Bounds) -> None:
    assert diagnostic.file == str(path), diagnostic
    bounds.check(diagnostic.message, diagnostic.line, diagnostic.column)


def fuzz(kind: str, inputs: st.SearchStrategy[str], check: Callable[[bytes], None]) -> int:
    """Run `check` on `EXAMPLES[kind] * SCALE` generated inputs; how many ran."""
    ran: list[int] = []

    @settings(
        max_examples=EXAMPLES[kind] * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text=inputs)
    def run(text: str) -> None:
        ran.append(1)
        check(text.encode("utf-8", "surrogateescape"))

    run()
    return len(ran)


def test_valid_manifests(tmp_path: Path, no_network: list[Any]) -> None:
    path = tmp_path / "a.yaml"
    assert fuzz("valid", valid_files, lambda raw: exercise(path, raw)) >= EXAMPLES["valid"]


def test_documents_with_a_hostile_value(tmp_path: Path, no_network: list[Any]) -> None:
    path = tmp_path / "a.yaml"
    count = fuzz("mutated documents", mutated_documents(), lambda raw: exercise(path, raw))
    assert count >= EXAMPLES["mutated documents"]


def test_cut_spliced_and_poisoned_text(tmp_path: Path, no_network: list[Any]) -> None:
    path = tmp_path / "a.yaml"
    count = fuzz("mutated text", mutated_text(), lambda raw: exercise(path, raw))
    assert count >= EXAMPLES["mutated text"]


def test_hostile_yaml(tmp_path: Path, no_network: list[Any]) -> None:
    path = tmp_path / "a.yaml"
    assert fuzz("hostile", hostile_text, lambda raw: exercise(path, raw)) >= EXAMPLES["hostile"]


@pytest.mark.parametrize(("name", "raw"), bombs(), ids=[name for name, _ in bombs()])
def test_bombs_are_refused_within_bounds(
    tmp_path: Path, no_network: list[Any], name: str, raw: bytes
) -> None:
    exercise(tmp_path / "bomb.yaml", raw, trace_memory=len(raw) > TRACED_BYTES)


# --- pushctl.yaml goes through the same safe loader, and must never echo a pasted key.

KEY = st.from_regex(r"\A[a-z0-9]{32}\Z|\AAKID[A-Za-z0-9]{32}\Z|\A[A-Za-z0-9+/]{40}\Z")


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, str]:
    key = draw(KEY)
    app = {
        "accessId": "1500001048",
        "platform": draw(st.sampled_from(["android", "ios", "windows"])),
        "region": "ap-guangzhou",
        "secretKeyEnv": key,
    }
    text = dump({"apps": {"shop-android": app}})
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["\t", "[", "x: ", "&a ", "\x01"])) + text[at:]
    return text, key


def test_config_errors_are_located_and_never_echo_a_key(tmp_path: Path) -> None:
    path = tmp_path / "pushctl.yaml"
    ran: list[int] = []

    @settings(max_examples=300 * SCALE, derandomize=True, database=None, deadline=None)
    @given(case=configs())
    def run(case: tuple[str, str]) -> None:
        text, key = case
        ran.append(1)
        path.write_text(text, encoding="utf-8")
        bounds = Bounds(text.encode("utf-8"))
        with pytest.raises(ConfigFileError) as caught:
            load_config(path)
        for problem in caught.value.problems:
            _located(problem, path, bounds)
        assert key not in str(caught.value)
        assert key[2:-2] not in str(caught.value)

    run()
    assert len(ran) >= 300
