"""docs/emulator.md names a test for every conformance row; each named test must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`((?:tests/[a-z_/]+/)?test_[a-z_]+\.py)(?:::([a-z_0-9]+))?`")


def _conformance_rows() -> list[str]:
    text = (ROOT / "docs" / "emulator.md").read_text()
    section = text.split("## Conformance", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]


def test_every_conformance_row_names_a_test_that_exists() -> None:
    rows = _conformance_rows()[1:]  # after the header
    assert len(rows) >= 20
    for row in rows:
        references = REFERENCE.findall(row)
        assert references, f"no test named in: {row}"
        for file_name, test_name in references:
            path = ROOT / file_name if "/" in file_name else ROOT / "tests/emulator" / file_name
            assert path.is_file(), f"{file_name} does not exist ({row[:40]})"
            if test_name:
                assert re.search(rf"def {test_name}\(", path.read_text()), (
                    f"{file_name}::{test_name}"
                )
