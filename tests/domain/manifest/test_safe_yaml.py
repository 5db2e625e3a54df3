"""The safe YAML fast path: C parser, refusals with exact positions, scalar resolution."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.cyaml import CParser

from reconciler.domain.manifest import safe_yaml
from reconciler.domain.manifest.safe_yaml import (
    MAX_FILE_BYTES,
    Locator,
    YamlProblems,
    load_yaml_file,
    load_yaml_text,
)


def test_fast_path_parser_is_the_c_parser() -> None:
    assert safe_yaml.FAST_PARSER is CParser
    assert YAML(typ="safe", pure=False).Parser is CParser
    module_file = sys.modules[CParser.__module__].__file__
    assert module_file is not None
    assert module_file.endswith((".so", ".pyd"))  # compiled, from ruamel.yaml.clib
    assert CParser.__module__ == "ruamel.yaml.clib._ruamel_yaml"


def problems_of(text: str) -> list[str]:
    with pytest.raises(YamlProblems) as caught:
        load_yaml_text(text, "m.yaml")
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\n", ["m.yaml:1:4: anchors (&x) are not allowed; write the value out in full"]),
        (
            "a: &x 1\nb: *x\n",
            [
                "m.yaml:1:4: anchors (&x) are not allowed; write the value out in full",
                "m.yaml:2:4: aliases (*x) are not allowed; write the value out in full",
            ],
        ),
        (
            "base: 1\n<<: {a: 1}\n",
            ["m.yaml:2:1: merge keys (<<) are not allowed; write the keys out in full"],
        ),
        ("a: !foo 1\n", ["m.yaml:1:4: tag !foo is not allowed; remove it and write a plain value"]),
        (
            "a: !!python/object:os.system x\n",
            [
                "m.yaml:1:4: tag tag:yaml.org,2002:python/object:os.system is not allowed; "
                "remove it and write a plain value"
            ],
        ),
        (
            "a:\n  - !!str 1\n",
            [
                "m.yaml:2:5: tag tag:yaml.org,2002:str is not allowed; "
                "remove it and write a plain value"
            ],
        ),
        ("a: 1\nb: 2\na: 3\n", ["m.yaml:3:1: duplicate key 'a'; keep one and delete the other"]),
        ("m:\n  k: 1\n  k: 2\n", ["m.yaml:3:3: duplicate key 'k'; keep one and delete the other"]),
        (
            "? [a]\n: 1\n",
            ["m.yaml:1:3: a mapping or list cannot be a key; use a plain string key"],
        ),
        (
            "a: " + "[" * 32 + "]" * 32 + "\n",
            ["m.yaml:1:35: nesting deeper than 32 levels; flatten this value"],
        ),
    ],
)
def test_unsafe_yaml_is_refused_at_its_position(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


def test_nesting_of_exactly_32_levels_is_accepted() -> None:
    text = "a: " + "[" * 31 + "]" * 31 + "\n"
    assert load_yaml_text(text, "m.yaml")[0].data["a"] is not None


def test_syntax_error_is_located() -> None:
    found = problems_of("a: 1\nb: [1, 2\nc: 3\n")
    assert len(found) == 1
    assert found[0].startswith("m.yaml:3:2: YAML syntax: ")


def test_file_over_one_mebibyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(YamlProblems) as caught:
        load_yaml_file(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1:1: file is over 1 MiB; split it into several manifest files"
    ]
    assert caught.value.problems[0].code == "yaml.too_large"


def test_non_utf8_bytes_are_refused_at_their_position(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(YamlProblems) as caught:
        load_yaml_file(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:7: byte 0xe9 is not UTF-8; save the file as UTF-8"
    ]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffa: café\n".encode())
    assert load_yaml_file(path)[0].data == {"a": "café"}


def test_documents_and_their_start_lines() -> None:
    text = "---\n---\n# only a comment\n---\na: 1\n---\n~\n---\n- x\n"
    documents = load_yaml_text(text, "m.yaml")
    assert [(d.data, d.line, d.column) for d in documents] == [({"a": 1}, 5, 1), (["x"], 9, 1)]


def test_plain_scalars_resolve_as_yaml_1_2() -> None:
    text = (
        "dec: 017\nhex: 0x1F\noct: 0o17\nbin: 0b11\nneg: -3\nsep: 1_000\n"
        "flt: 1.5\nexp: 1e3\ninf: -.inf\nnul: ~\nnul2: null\nempty:\nyes: yes\n"
        "t: true\nf: False\nts: 2026-12-01T09:00:00+08:00\nq: '1'\nblock: |\n  x\n"
    )
    data = load_yaml_text(text, "m.yaml")[0].data
    assert data == {
        "dec": 17,
        "hex": 31,
        "oct": 15,
        "bin": 3,
        "neg": -3,
        "sep": 1000,
        "flt": 1.5,
        "exp": 1000.0,
        "inf": -math.inf,
        "nul": None,
        "nul2": None,
        "empty": None,
        "yes": "yes",
        "t": True,
        "f": False,
        "ts": "2026-12-01T09:00:00+08:00",
        "q": "1",
        "block": "x\n",
    }


def test_nan_resolves_to_a_float() -> None:
    assert math.isnan(load_yaml_text("n: .nan\n", "m.yaml")[0].data["n"])


def test_locator_points_at_keys_items_and_deepest_parent() -> None:
    text = "a: 1\n---\nspec:\n  push:\n    list: [x, {k: v}]\n"
    locator = Locator(text)
    assert locator.position(1, ("spec", "push", "list", 1, "k"), root=(3, 1)) == (5, 16)
    assert locator.position(1, ("spec", "push", "list", 0), root=(3, 1)) == (5, 12)
    assert locator.position(1, ("spec", "missing", "x"), root=(3, 1)) == (3, 1)
    assert locator.position(0, (), root=(1, 1)) == (1, 1)
