"""The audience of a tag push (reference section 4.3): `tag_rules`, or the legacy `tag_list`."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.refusals import INVALID_PARAMETER, MISSING_PARAMETER, Refusal

TAG_TYPES = frozenset(
    {
        "xg_user_define",
        "xg_auto_version",
        "xg_auto_province",
        "xg_auto_active",
        "xg_auto_sdkversion",
        "xg_auto_systemlanguage",
        "xg_auto_devicebrand",
        "xg_auto_deviceversion",
        "xg_auto_country",
    }
)
MAX_TAG_LIST_CHARS = 512


#: What the SDKs send for an audience form they do not use (zero values count as unset).
_UNSET: tuple[object, ...] = (None, "", False, 0, [])


def check_tags(body: dict[str, Any]) -> None:
    """A tag push needs `tag_rules` (preferred) or the legacy `tag_list`, each well formed."""
    rules = body.get("tag_rules")
    if rules not in _UNSET:
        _check_tag_rules(rules)
        return  # tag_list is ignored when tag_rules is given
    tag_list = body.get("tag_list")
    if tag_list in _UNSET:
        raise Refusal(MISSING_PARAMETER, "tag_rules (or legacy tag_list) is required for tag")
    if not isinstance(tag_list, dict):
        raise Refusal(INVALID_PARAMETER, "tag_list must be an object {tags, op}")
    tags = tag_list.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        raise Refusal(INVALID_PARAMETER, "tag_list.tags must be a non-empty list of strings")
    if sum(len(t) for t in tags) > MAX_TAG_LIST_CHARS:
        raise Refusal(INVALID_PARAMETER, "tag_list.tags may hold at most 512 characters")
    if tag_list.get("op") not in ("AND", "OR"):
        raise Refusal(INVALID_PARAMETER, "tag_list.op must be AND or OR")


def _check_tag_rules(rules: object) -> None:
    if not isinstance(rules, list):
        raise Refusal(INVALID_PARAMETER, "tag_rules must be a list")
    for index, rule in enumerate(rules):
        where = f"tag_rules[{index}]"
        if not isinstance(rule, dict):
            raise Refusal(INVALID_PARAMETER, f"{where} must be an object")
        _check_join(rule, "operator", where)
        items = rule.get("tag_items")
        if not isinstance(items, list) or not items:
            raise Refusal(MISSING_PARAMETER, f"{where}.tag_items must be a non-empty list")
        for item_index, item in enumerate(items):
            _check_tag_item(item, f"{where}.tag_items[{item_index}]")


def _check_tag_item(item: object, where: str) -> None:
    if not isinstance(item, dict):
        raise Refusal(INVALID_PARAMETER, f"{where} must be an object")
    tags = item.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        raise Refusal(MISSING_PARAMETER, f"{where}.tags must be a non-empty list of strings")
    if item.get("tag_type") not in TAG_TYPES:
        raise Refusal(INVALID_PARAMETER, f"{where}.tag_type must be one of {sorted(TAG_TYPES)}")
    _check_join(item, "tags_operator", where)
    _check_join(item, "items_operator", where)


def _check_join(node: dict[str, Any], key: str, where: str) -> None:
    if node.get(key) not in (None, "", "AND", "OR"):
        raise Refusal(INVALID_PARAMETER, f"{where}.{key} must be AND or OR")
    if "is_not" in node and not isinstance(node["is_not"], bool):
        raise Refusal(INVALID_PARAMETER, f"{where}.is_not must be a boolean")
