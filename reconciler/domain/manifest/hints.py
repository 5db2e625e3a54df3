"""Turning pydantic errors into located, actionable messages ("did you mean ...")."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from typing import Any, Union, get_args, get_origin

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
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = _field_by_key(current, part)
        if field is None:
            return None
        current = _inner_model(field)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _inner_model(annotation: Any) -> Any:
    """Unwrap Optional, list and dict annotations down to a model class."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple, dict):
        for arg in get_args(annotation):
            inner = _inner_model(arg)
            if inner is not None:
                return inner
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
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{message} (got {_shown(error.get('input'))})" if _shows_input(kind) else message


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
