"""JSON Schema (draft-07) of the PushTask kind and of pushctl.yaml, for `pushctl schema` and
editor support. pydantic emits 2020-12 with `$defs`; editors and CI validators mostly speak
draft-07, so the output is rewritten to `definitions`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from reconciler.domain.manifest.models import PushctlConfig, PushTask
from reconciler.domain.manifest.push_models import PushBody

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
#: Stable identities: they name the schema, whichever file or URL an editor loads it from.
PUSHTASK_SCHEMA_ID = "urn:pushctl:schema:pushtask:v1"
CONFIG_SCHEMA_ID = "urn:pushctl:schema:config:v1"
_REF_TEMPLATE = "#/definitions/{model}"


def manifest_json_schema() -> dict[str, Any]:
    """The PushTask kind, with `spec.push` described field by field (reference section 4)."""
    schema = _draft07(PushTask, title="pushctl PushTask manifest", schema_id=PUSHTASK_SCHEMA_ID)
    body = _model_schema(PushBody)
    definitions = schema["definitions"]
    definitions.update(body.pop("$defs", {}))
    definitions["PushBody"] = body
    spec = definitions["PushTaskSpec"]
    spec["properties"]["push"] = {
        "anyOf": [{"$ref": "#/definitions/PushBody"}, {"type": "null"}],
        "default": None,
        "description": "The /v3/push/app request body, TPNS field names verbatim. "
        "collapse_id and force_collapse are added by pushctl.",
    }
    return _finish(schema)


def config_json_schema() -> dict[str, Any]:
    """pushctl.yaml."""
    title = "pushctl configuration (pushctl.yaml)"
    return _finish(_draft07(PushctlConfig, title=title, schema_id=CONFIG_SCHEMA_ID))


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True, ref_template=_REF_TEMPLATE, mode="validation")


def _draft07(model: type[BaseModel], *, title: str, schema_id: str) -> dict[str, Any]:
    schema = _model_schema(model)
    definitions = schema.pop("$defs", {})
    head = {"$schema": DRAFT_07, "$id": schema_id}
    return {**head, **schema, "title": title, "definitions": definitions}


def _finish(schema: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _rewrite(schema)
    return result


def _rewrite(node: Any) -> Any:
    """Draft-07 forms: `$ref` alone in its object, `const` kept, no 2020-12-only keywords."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value) for key, value in node.items()}
    if "prefixItems" in out:
        # Tuples: draft-07 spells positional items as an array under `items`.
        out["items"] = out.pop("prefixItems")
    if "$ref" in out and len(out) > 1:
        # Draft-07 ignores siblings of `$ref`; keep them by moving the ref into allOf.
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}, *out.get("allOf", [])]
    return out
