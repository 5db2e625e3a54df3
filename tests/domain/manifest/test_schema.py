"""JSON Schema output: draft-07 shape, resolvable refs, and coverage of real manifests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.domain.manifest.safe_yaml import load_yaml_file
from reconciler.domain.manifest.schema import DRAFT_07, config_json_schema, manifest_json_schema

DRAFT_2019_PLUS = {"$defs", "prefixItems", "$dynamicRef", "$anchor", "unevaluatedProperties"}


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/definitions/")
        node = schema["definitions"][name]
    return node


def object_options(schema: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The object-typed subschemas a mapping instance may match."""
    node = resolve(schema, node)
    options = [node] if "properties" in node or node.get("type") == "object" else []
    for key in ("anyOf", "allOf", "oneOf"):
        for option in node.get(key, []):
            options.extend(object_options(schema, option))
    return options


def assert_keys_described(
    schema: dict[str, Any], node: dict[str, Any], value: Any, at: str
) -> None:
    """Every key of `value` is a property (or allowed additional property) of the schema."""
    node = resolve(schema, node)
    if isinstance(value, dict):
        options = object_options(schema, node)
        assert options, f"{at}: the schema has no object here"
        for key, item in value.items():
            props = [o["properties"][key] for o in options if key in o.get("properties", {})]
            # `additionalProperties: true` (free-form maps such as aps.alert) is `{}`.
            extra = [
                {} if o["additionalProperties"] is True else o["additionalProperties"]
                for o in options
                if o.get("additionalProperties") not in (None, False)
            ]
            assert props or extra, f"{at}.{key} is not in the schema"
            assert_keys_described(schema, (props or extra)[0], item, f"{at}.{key}")
    elif isinstance(value, list):
        items = [o.get("items") for o in [node, *node.get("anyOf", [])] if isinstance(o, dict)]
        item_schema = next((i for i in items if isinstance(i, dict)), {})
        for index, item in enumerate(value):
            assert_keys_described(schema, item_schema, item, f"{at}[{index}]")


@pytest.mark.parametrize("build", [manifest_json_schema, config_json_schema])
def test_schema_is_draft_07(build: Any) -> None:
    schema = build()
    assert schema["$schema"] == DRAFT_07
    assert schema["type"] == "object"
    json.dumps(schema)  # plain JSON, nothing else
    for node in walk(schema):
        assert not DRAFT_2019_PLUS & set(node), node
        if "$ref" in node:
            assert set(node) == {"$ref"}, node  # draft-07 ignores siblings of $ref
            assert node["$ref"].startswith("#/definitions/")
            assert node["$ref"].removeprefix("#/definitions/") in schema["definitions"]


def test_manifest_schema_describes_push_bodies() -> None:
    schema = manifest_json_schema()
    push = schema["definitions"]["PushTaskSpec"]["properties"]["push"]
    assert {"$ref": "#/definitions/PushBody"} in push["anyOf"]
    body = schema["definitions"]["PushBody"]
    assert body["additionalProperties"] is False
    assert "collapse_id" not in body["properties"]
    assert set(body["required"]) == {"audience_type", "message_type", "message"}
    aps = schema["definitions"]["Aps"]["properties"]
    assert {"mutable-content", "content-available", "interruption-level"} <= set(aps)
    loop = schema["definitions"]["LoopParam"]["properties"]
    assert {"startDate", "endDate", "loopType", "loopDayIndexs", "dayTimes"} == set(loop)


def test_every_key_of_the_sample_manifests_is_in_the_schema(fixtures_dir: Path) -> None:
    schema = manifest_json_schema()
    files = sorted((fixtures_dir / "manifests").rglob("*.y*ml"))
    assert len(files) == 3
    for path in files:
        for document in load_yaml_file(path):
            assert_keys_described(schema, schema, document.data, path.name)


def test_every_key_of_the_sample_config_is_in_the_schema(fixtures_dir: Path) -> None:
    schema = config_json_schema()
    (document,) = load_yaml_file(fixtures_dir / "pushctl.yaml")
    assert_keys_described(schema, schema, document.data, "pushctl.yaml")


def test_a_misspelt_key_is_not_in_the_schema() -> None:
    schema = manifest_json_schema()
    with pytest.raises(AssertionError, match=r"spec\.push\.messge is not in the schema"):
        assert_keys_described(schema, schema, {"spec": {"push": {"messge": {}}}}, "doc")
