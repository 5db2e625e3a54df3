"""Turning pydantic errors into located, actionable messages ("did you mean ...")."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Path = tuple[str | int, ...]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean `x`?)` for the closest candidate, or "" when none is close."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def field_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts as written in YAML (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def model_at(model: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that validates the mapping at `path` below `model`, if any."""
    current: Any = model
    for part in path:
        current = _step(current, part)
        if current is None:
            return None
    return _as_model(current)


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation of the value at `part` inside a value of type `annotation`."""
    model = _as_model(annotation)
    if model is not None:
        return _field_by_key(model, part) if isinstance(part, str) else None
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (Union, types.UnionType, Annotated):
        candidates = args[:1] if origin is Annotated else args
        return next((s for s in (_step(a, part) for a in candidates) if s is not None), None)
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict and isinstance(part, str):
        return args[1]
    return None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [m for m in map(_as_model, get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """One readable sentence for one pydantic error, with what to write instead."""
    loc = error["loc"]
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = model_at(model, loc[:-1])
        hint = did_you_mean(key, field_keys(parent)) if parent is not None else ""
        return f"unknown field `{key}`{hint}; remove it or fix its name"
    if kind == "missing":
        return f"`{loc[-1]}` is required here; add it"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"expected a mapping of fields here (got {_shown(error.get('input'))})"
    message = error["msg"]
    if kind == "string_type" and isinstance(error.get("input"), int | float | bool):
        return f'{message} (got {error["input"]!r}); quote it: "{error["input"]}"'
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    shown = f"{message} (got {_shown(error.get('input'))})" if _shows_input(kind) else message
    return shown + _enum_hint(error)


def _enum_hint(error: ErrorDetails) -> str:
    """` (did you mean `cancelled`?)` for a misspelt enum value such as `canceled`."""
    if error["type"] not in {"enum", "literal_error"} or not isinstance(error.get("input"), str):
        return ""
    allowed = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
    return did_you_mean(error["input"], allowed)


def _shows_input(kind: str) -> bool:
    return kind not in {"value_error", "assertion_error"} and not kind.startswith("model")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def dotted(prefix: str, path: Sequence[str | int]) -> str:
    """`push.message.android` / `push.token_list[3]` for messages."""
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
