"""find_config and load_config: discovery, safe loading, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.domain.manifest.config import ConfigFileError, find_config, load_config
from reconciler.domain.manifest.models import Platform
from reconciler.errors import ConfigError

VALID = """\
apps:
  shop-android:
    accessId: "1500001048"
    platform: android
    region: ap-guangzhou
    secretKeyEnv: SHOP_ANDROID_SECRET_KEY
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_config_loads(fixtures_dir: Path) -> None:
    config = load_config(fixtures_dir / "pushctl.yaml")
    assert sorted(config.apps) == ["shop-android", "shop-ios"]
    assert config.apps["shop-ios"].platform is Platform.IOS
    assert config.apps["shop-ios"].auth == "basic"
    assert config.tpns_utc_offset == "+08:00"


def test_explicit_config_wins(tmp_path: Path) -> None:
    explicit = write(tmp_path / "elsewhere.yaml", VALID)
    write(tmp_path / "pushctl.yaml", VALID)
    assert find_config(explicit, [tmp_path], cwd=tmp_path) == explicit


def test_missing_explicit_config_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path / "nope.yaml", [], cwd=tmp_path)
    assert str(caught.value) == (
        f"config file {tmp_path / 'nope.yaml'} does not exist\n"
        "  check the --config path, or leave --config out to use pushctl.yaml"
    )


def test_config_beside_or_above_the_first_manifest(tmp_path: Path) -> None:
    config = write(tmp_path / "repo" / "pushctl.yaml", VALID)
    manifest = write(tmp_path / "repo" / "manifests" / "android" / "a.yaml", "")
    cwd = tmp_path / "other"
    cwd.mkdir()
    assert find_config(None, [manifest], cwd=cwd) == config
    assert find_config(None, [manifest.parent], cwd=cwd) == config
    assert find_config(None, [Path("-"), tmp_path / "repo"], cwd=cwd) == config


def test_relative_manifest_paths_resolve_against_cwd(tmp_path: Path) -> None:
    config = write(tmp_path / "pushctl.yaml", VALID)
    write(tmp_path / "manifests" / "a.yaml", "")
    assert find_config(None, [Path("manifests")], cwd=tmp_path) == config


def test_falls_back_to_the_working_directory(tmp_path: Path) -> None:
    config = write(tmp_path / "cwd" / "pushctl.yaml", VALID)
    assert find_config(None, [Path("-")], cwd=tmp_path / "cwd") == config


def test_no_config_anywhere_names_the_next_step(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_config(None, [], cwd=tmp_path)
    assert caught.value.hint == (
        "create pushctl.yaml with an `apps:` section, or pass --config FILE"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VALID.replace("platform: android", "platfrom: android"),
            [
                # A missing key points at its parent mapping's key.
                (2, 3, "config.schema", "apps.shop-android.platform: `platform` is required"),
                (4, 5, "config.unknown_field", "did you mean `platform`?"),
            ],
        ),
        (
            VALID.replace('"1500001048"', "1500001048"),
            [(3, 5, "config.schema", "apps.shop-android.accessId: Input should be a valid string")],
        ),
        (
            VALID.replace("region: ap-guangzhou", "endpoint: http://tpns.example.com"),
            [(5, 5, "config.schema", "plain http:// is refused for 'tpns.example.com'")],
        ),
        (
            VALID.replace("region: ap-guangzhou", "region: ap-guangzhou\n    endpoint: emulator"),
            [(2, 3, "config.schema", "give exactly one of `region` or `endpoint`")],
        ),
        (
            VALID + "state: &s x\n",
            [(7, 8, "yaml.unsafe", "anchors (&s) are not allowed")],
        ),
        (VALID + "---\napps: {}\n", [(8, 1, "config.documents", "exactly one YAML document")]),
    ],
)
def test_config_errors_are_located(
    tmp_path: Path, text: str, expected: list[tuple[int, int, str, str]]
) -> None:
    path = write(tmp_path / "pushctl.yaml", text)
    with pytest.raises(ConfigFileError) as caught:
        load_config(path)
    found = caught.value.problems
    assert [(p.line, p.column, p.code) for p in found] == [e[:3] for e in expected]
    for problem, (_, _, _, fragment) in zip(found, expected, strict=True):
        assert fragment in problem.message
        assert problem.file == str(path)
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    "endpoint",
    [
        "emulator",
        "emulator:.pushctl/emu.db",
        "https://api.tpns.tencent.com",
        "http://127.0.0.1:8080",
    ],
)
def test_accepted_endpoints(tmp_path: Path, endpoint: str) -> None:
    text = VALID.replace("region: ap-guangzhou", f"endpoint: {endpoint}")
    path = write(tmp_path / "p.yaml", text)
    assert load_config(path).apps["shop-android"].endpoint == endpoint
