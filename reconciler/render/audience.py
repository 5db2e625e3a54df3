"""Who a push reaches, in words a reviewer understands, read from the /v3/push/app body.

"devices tagged bf-subscribers", "all devices of app shop-android", "12 accounts": the plan's
own `audience` field is a compact form; this says it the way a person would.
"""

from __future__ import annotations

from typing import Any

from reconciler.domain.plan import Change, Plan
from reconciler.domain.policy.sending import sent_body


def reaches_all_devices(change: Change) -> bool:
    body = sent_body(change)
    return body is not None and body.get("audience_type") == "all"


def plan_reaches_all_devices(plan: Plan) -> bool:
    return any(reaches_all_devices(change) for change in plan.changes)


def reach_in_words(body: dict[str, Any], *, app: str) -> str:
    """`all devices of app shop-android`, `devices tagged a and b, not c`, `3 accounts`, ..."""
    audience = body.get("audience_type")
    if audience == "all":
        return f"all devices of app {app}"
    if audience == "tag":
        return "devices tagged " + _tags_in_words(body)
    if audience in ("token", "token_list"):
        count = 1 if audience == "token" else len(body.get("token_list") or [])
        return f"{count} device{'s' if count != 1 else ''} by token"
    if audience in ("account", "account_list"):
        count = 1 if audience == "account" else len(body.get("account_list") or [])
        return f"{count} account{'s' if count != 1 else ''}{_account_devices(body)}"
    if audience == "package_account_push":
        return f"the accounts in uploaded package {body.get('upload_id')}{_account_devices(body)}"
    if audience == "package_token_push":
        return f"the devices in uploaded package {body.get('upload_id')}"
    return f"audience {audience}"


def _account_devices(body: dict[str, Any]) -> str:
    if body.get("account_push_type") == 1:
        return " (every device of each)"
    return " (the latest device of each)"


def _tags_in_words(body: dict[str, Any]) -> str:
    rules = body.get("tag_rules")
    if not rules:
        legacy = body.get("tag_list") or {}
        return _joined(legacy.get("tags") or [], str(legacy.get("op", "OR")))
    parts: list[str] = []
    for index, rule in enumerate(rules):
        text = _rule_in_words(rule)
        if rule.get("is_not"):
            text = f"not ({text})"
        if index:
            text = f"{str(rule.get('operator', 'OR')).lower()} {text}"
        parts.append(text)
    return " ".join(parts)


def _rule_in_words(rule: dict[str, Any]) -> str:
    parts: list[str] = []
    for index, item in enumerate(rule.get("tag_items") or []):
        text = _joined(item.get("tags") or [], str(item.get("tags_operator", "OR")))
        if item.get("is_not"):
            text = f"not {text}" if len(item.get("tags") or []) < 2 else f"not ({text})"
        if index:
            text = f"{str(item.get('items_operator', 'OR')).lower()} {text}"
        parts.append(text)
    return " ".join(parts)


def _joined(tags: list[Any], operator: str) -> str:
    names = [str(tag) for tag in tags]
    if len(names) <= 1:
        return names[0] if names else "(no tags)"
    return f" {operator.lower()} ".join(names)
