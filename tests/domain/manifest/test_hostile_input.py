"""Hostile manifests and configuration: each is a located problem, never a traceback.

Every case here once crashed the loader (or the plan after it), took seconds to minutes inside
the parser, or printed a pasted secret back.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.domain.body import tpns_body
from reconciler.domain.manifest.config import ConfigFileError, load_config
from reconciler.domain.manifest.loader import input_digest, load_manifests
from reconciler.domain.manifest.safe_yaml import Locator, YamlProblems, load_yaml_text
from reconciler.domain.manifest.secrets import redacted
from reconciler.errors import ManifestError, SourceProblem

HEAD = "apiVersion: pushctl/v1\nkind: PushTask\nmetadata: {name: t1, app: shop-android}\n"
PUSH = (
    "  push:\n"
    "    audience_type: all\n"
    "    message_type: notify\n"
    "    message: {title: Hi, content: There}\n"
)


def manifest(spec_lines: str = "", push: str = PUSH) -> str:
    return f"{HEAD}spec:\n  state: active\n{spec_lines}{push}"


def problems_in(tmp_path: Path, text: str) -> list[SourceProblem]:
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifests([path])
    return caught.value.problems


def shown(problems: list[SourceProblem]) -> list[str]:
    return [f"{p.line}:{p.column} {p.code} {p.message}" for p in problems]


@pytest.mark.parametrize("value", ["-_", "+_", "0x_", "0b_", "1" * 5000, "0x" + "f" * 4000])
def test_number_like_push_id_is_a_located_schema_problem(tmp_path: Path, value: str) -> None:
    [problem] = problems_in(tmp_path, manifest(f"  pushId: {value}\n"))
    assert (problem.line, problem.column, problem.code) == (6, 3, "manifest.schema")
    assert problem.message.startswith("spec.pushId: String should match pattern")


def test_number_like_plain_scalars_without_digits_stay_strings() -> None:
    [document] = load_yaml_text("a: [-_, 0x_, 0o_, ._, -._, 1_0, 0x1F, .inf]\n", "m.yaml")
    assert document.data == {"a": ["-_", "0x_", "0o_", "._", "-._", 10, 31, float("inf")]}
    [long] = load_yaml_text("a: " + "9" * 101 + "\n", "m.yaml")
    assert long.data == {"a": "9" * 101}


@pytest.mark.parametrize(
    ("char", "where"), [("\x01", (9, 23)), ("\x7f", (9, 23)), ("\x9f", (9, 23))]
)
def test_control_character_is_located(tmp_path: Path, char: str, where: tuple[int, int]) -> None:
    text = manifest().replace("title: Hi", f"title: H{char}i")
    [problem] = problems_in(tmp_path, text)
    assert (problem.line, problem.column) == where
    assert problem.code == "yaml.syntax"
    assert f"character U+{ord(char):04X} is not allowed in YAML" in problem.message


def test_list_as_audience_type_is_a_located_problem(tmp_path: Path) -> None:
    text = manifest().replace("audience_type: all", "audience_type: [tag]")
    [problem] = problems_in(tmp_path, text)
    assert (problem.line, problem.column, problem.code) == (7, 5, "manifest.push")
    assert "spec.push.audience_type: Input should be 'all'" in problem.message


@pytest.mark.parametrize("tail", ["\t", "\t# note"])
def test_tab_after_a_flow_mapping_does_not_break_locating(tmp_path: Path, tail: str) -> None:
    text = (
        f"{HEAD}spec:\n  state: bogus\n"
        f"  push: {{audience_type: all, message_type: notify, message: {{title: a}}}}{tail}\n"
    )
    assert shown(problems_in(tmp_path, text)) == [
        "5:3 manifest.schema spec.state: Input should be 'active', 'stopped', 'recalled', "
        "'cancelled' or 'overridden' (got 'bogus')",
        "6:52 manifest.push spec.push.message.content: `message.content` is required; add it",
    ]


def test_locator_reads_what_the_round_trip_loader_refuses() -> None:
    locator = Locator("a:\t{b: 1}\nc: [x, {d: 2}]\t\n---\n~\n---\n- 5\n")
    assert locator.position(0, ["a", "b"], root=(1, 1)) == (1, 5)
    assert locator.position(0, ["c", 1, "d"], root=(1, 1)) == (2, 9)
    assert locator.position(0, ["c", 7], root=(1, 1)) == (2, 1)
    assert locator.position(1, [0], root=(9, 9)) == (6, 3)


@pytest.mark.parametrize(
    "send_time", ["9999-12-31T23:59:59-08:00", "0001-01-01T00:00:00+14:00", "3000-01-01T00:00Z"]
)
def test_send_time_beyond_datetime_arithmetic_is_refused(tmp_path: Path, send_time: str) -> None:
    text = manifest().replace("    message_type", f'    send_time: "{send_time}"\n    message_type')
    [problem] = problems_in(tmp_path, text)
    assert (problem.line, problem.column, problem.code) == (8, 5, "manifest.push")
    assert "out of range (2000-2999); TPNS takes send_time at most 90 days ahead" in (
        problem.message
    )


def test_send_time_at_the_bounds_builds_a_body(tmp_path: Path) -> None:
    for send_time in ("2999-12-31T23:59:59-23:59", "2000-01-01T00:00:00+23:59"):
        path = tmp_path / "a.yaml"
        text = manifest().replace(
            "    message_type", f'    send_time: "{send_time}"\n    message_type'
        )
        path.write_text(text, encoding="utf-8")
        [declared] = load_manifests([path])
        assert tpns_body(declared)["send_time"][:4] in {"3000", "2000", "1999"}
        assert input_digest([declared])


def test_lone_surrogate_escape_is_located(tmp_path: Path) -> None:
    text = manifest().replace("title: Hi", 'title: "\\ud800"')
    [problem] = problems_in(tmp_path, text)
    assert (problem.line, problem.column, problem.code) == (9, 22, "yaml.unsafe")
    assert problem.message.startswith("escape \\ud800 is half of a UTF-16 pair")


def test_astral_escape_is_a_character(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(manifest().replace("title: Hi", 'title: "\\U0001F600"'), encoding="utf-8")
    [declared] = load_manifests([path])
    assert declared.task.spec.push is not None
    assert declared.task.spec.push["message"]["title"] == "\U0001f600"
    assert input_digest([declared])


# --- 10. Nesting and size that the parser would take seconds over are refused before parsing.


def refused(text: str) -> tuple[list[str], float]:
    started = time.process_time()
    with pytest.raises(YamlProblems) as caught:
        load_yaml_text(text, "m.yaml")
    return [str(p) for p in caught.value.problems], time.process_time() - started


def test_deep_flow_nesting_is_refused_before_parsing() -> None:
    found, cpu = refused("a: " + "[" * 200_000)
    assert found == [
        "m.yaml:1:132: more than 128 `[` or `{` open at once (nesting deeper than 32 levels); "
        "flatten this value"
    ]
    assert cpu < 0.5  # the parser took 20 s over this


def test_flat_list_of_400k_items_is_refused_before_parsing() -> None:
    found, cpu = refused("a: [" + "1," * 400_000 + "1]\n")
    assert found == [
        "m.yaml:1:100006: more than 50,000 comma-separated values in one file; "
        "split it into several manifest files"
    ]
    assert cpu < 0.5  # 16.5 s and 524 MB before


def test_long_block_list_stops_at_the_value_limit() -> None:
    found, _ = refused("a:\n" + "- 1\n" * 60_000)
    assert found == [
        "m.yaml:49999:3: more than 50,000 values in one file; split it into several files"
    ]


def test_brackets_in_text_and_nesting_up_to_the_limit_still_parse() -> None:
    [document] = load_yaml_text("a: '" + "[" * 90 + "'\n" + "b: " + "[" * 31 + "]" * 31, "m")
    assert document.data["a"] == "[" * 90


def test_long_text_libyaml_refuses_is_located_without_the_slow_parser() -> None:
    found, cpu = refused("".join(f"k{i}: value {i}\n" for i in range(2000)) + "x: [\n")
    assert found == [
        "m.yaml:2002:1: YAML syntax: did not find expected node content; "
        "fix the indentation or quoting"
    ]
    assert cpu < 0.5


# --- 11. A secret pasted as secretKeyEnv is refused without being printed back.

CONFIG = """\
apps:
  shop-android:
    accessId: "1500001048"
    platform: android
    region: ap-guangzhou
    secretKeyEnv: {value}
"""
KEY = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            KEY,
            "looks like a secret, not a variable name (got d4…7e (32 characters)); put the key "
            "in an environment variable (export SHOP_ANDROID_SECRET_KEY=...) and write the "
            "variable's name here — and rotate the key if this file was shared",
        ),
        (
            '"sk-9F8E7D6C5B4A39281706F5E4D3C2B1A0"',
            "looks like a secret, not a variable name (got sk…A0 (35 characters)); put the key "
            "in an environment variable (export SHOP_ANDROID_SECRET_KEY=...) and write the "
            "variable's name here — and rotate the key if this file was shared",
        ),
        (
            "123456789012345678",
            "must be the name of an environment variable, e.g. SHOP_ANDROID_SECRET_KEY "
            "(got a number, not shown)",
        ),
        (
            "shop_key",
            "must name an environment variable: upper-case letters, digits and `_`, not starting "
            "with a digit, e.g. SHOP_ANDROID_SECRET_KEY (got 8 characters, not shown)",
        ),
    ],
)
def test_secret_key_env_that_is_no_variable_name_is_not_echoed(
    tmp_path: Path, value: str, expected: str
) -> None:
    path = tmp_path / "pushctl.yaml"
    path.write_text(CONFIG.format(value=value), encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.code) == (6, 5, "config.schema")
    assert problem.message == f"apps.shop-android.secretKeyEnv: {expected}"
    bare = value.strip('"')
    assert bare not in str(caught.value)
    assert bare[2:-2] not in str(caught.value)


@pytest.mark.parametrize(
    "name", ["SHOP_ANDROID_SECRET_KEY", "_K", "KEY2", "ABCDEFGHIJKLMNOPQRSTUV"]
)
def test_upper_case_variable_names_are_accepted(tmp_path: Path, name: str) -> None:
    path = tmp_path / "pushctl.yaml"
    path.write_text(CONFIG.format(value=name), encoding="utf-8")
    assert load_config(path).apps["shop-android"].secret_key_env == name


def test_redacted_form_keeps_too_little_to_use() -> None:
    assert redacted(KEY) == "d4…7e (32 characters)"
    assert redacted("short") == "5 characters, not shown"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: !!python/object:os.system {cmd: ls}\n",
            "m.yaml:1:4: tag tag:yaml.org,2002:python/object:os.system is not allowed; "
            "remove it and write a plain value",
        ),
        (
            "a: !!python/object/apply:os.system [ls]\n",
            "m.yaml:1:4: tag tag:yaml.org,2002:python/object/apply:os.system is not allowed; "
            "remove it and write a plain value",
        ),
        (
            "a: &m\n  b: 1\n",
            "m.yaml:1:4: anchors (&m) are not allowed; write the value out in full",
        ),
    ],
)
def test_tags_and_anchors_on_collections_are_refused(text: str, expected: str) -> None:
    with pytest.raises(YamlProblems) as caught:
        load_yaml_text(text, "m.yaml")
    assert [str(p) for p in caught.value.problems] == [expected]
