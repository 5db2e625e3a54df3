"""Manifest texts for the end-to-end tests."""

from __future__ import annotations

TAG_RULES = """\
    tag_rules:
      - operator: OR
        is_not: false
        tag_items:
          - tags: [vip]
            is_not: false
            tags_operator: OR
            items_operator: OR
            tag_type: xg_user_define
"""


def android_task(
    name: str,
    *,
    state: str = "active",
    title: str = "Flash sale",
    url: str = "https://shop.example.com/sale",
    send_time: str | None = None,
    extra_spec: str = "",
    audience: str = "tag",
) -> str:
    audience_lines = TAG_RULES if audience == "tag" else ""
    schedule = f'    send_time: "{send_time}"\n' if send_time else ""
    return f"""\
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: {name}
  app: shop-android
spec:
  state: {state}
{extra_spec}  push:
    audience_type: {audience}
{audience_lines}    message_type: notify
    message:
      title: "{title}"
      content: "Open {name}"
      android:
        action:
          action_type: 2
          browser: {{url: "{url}", confirm: 0}}
{schedule}"""


def adopted_task(
    name: str, push_id: str, *, state: str = "active", app: str = "shop-android"
) -> str:
    return f"""\
apiVersion: pushctl/v1
kind: PushTask
metadata:
  name: {name}
  app: {app}
spec:
  state: {state}
  pushId: "{push_id}"
"""


def docs(*texts: str) -> str:
    return "---\n".join(texts)
