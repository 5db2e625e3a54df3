"""The plan file's text: exactly what `json.dumps` of the plan writes, whatever the values hold."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.domain.plan import (
    Action,
    ApiCall,
    Change,
    DiffEntry,
    Plan,
    PlanSeal,
    PlanSource,
)

BEIJING = timezone(timedelta(hours=8))
CREATED = datetime(2026, 11, 20, 12, 0, 30, 123456, tzinfo=BEIJING)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def reference_text(plan: Plan, *, indent: int | None) -> str:
    """The form the plan file has always had: `json.dumps` of the JSON-mode dump."""
    document = plan.model_dump(mode="json")
    if not plan.state_serials:
        del document["state_serials"]
    for added in ("source", "seal"):
        if document[added] is None:
            del document[added]
    return json.dumps(document, indent=indent, sort_keys=False) + "\n"


def a_plan(*, title: str, body: dict[str, Any], sealed: bool) -> Plan:
    change = Change(
        address="droid/spring-sale",
        app="droid",
        action=Action.OVERRIDE,
        push_id="100012",
        api_calls=(ApiCall(path="/v3/push/app", body=body),),
        reason=f"message.title changed to {title}",
        before={"push": {"message": {"title": "Old"}}},
        after={"push": {"message": {"title": title}}},
        diff=(DiffEntry(op="change", path="message.title", old="Old", new=title),),
        deadline=CREATED + timedelta(days=1),
        warnings=(title,),
    )
    return Plan(
        tool_version="1.0.0",
        created_at=CREATED,
        changes=(change,),
        state_serials={"droid": 3} if sealed else {},
        live_fingerprints={"100012": "sha256:ab"},
        source=PlanSource(commit="c0ffee", inputs={"tasks/a.yaml": "sha256:01"})
        if sealed
        else None,
        seal=PlanSeal(digest="sha256:00") if sealed else None,
    )


@settings(max_examples=80, deadline=None)
@given(
    title=st.text(), body=st.dictionaries(st.text(), json_values, max_size=4), sealed=st.booleans()
)
def test_plan_text_is_byte_identical_to_json_dumps(
    title: str, body: dict[str, Any], sealed: bool
) -> None:
    plan = a_plan(title=title, body=body, sealed=sealed)
    assert plan.to_json() == reference_text(plan, indent=2)
    assert plan.to_json(indent=None) == reference_text(plan, indent=None)


def test_text_past_ascii_is_escaped_as_json_dumps_does() -> None:
    title = "春季大促 🎉 caf\u00e9\x7f\u2028"
    text = a_plan(title=title, body={"title": title}, sealed=False).to_json()
    assert text.isascii()
    assert "\\u6625\\u5b63" in text  # 春季
    assert "\\ud83c\\udf89" in text  # the emoji, as a surrogate pair
    assert "\\u007f" in text
    assert "\\u2028" in text
    assert json.loads(text)["changes"][0]["warnings"] == [title]


def test_fields_a_plan_lacks_are_left_out_and_the_rest_kept_in_order() -> None:
    bare = json.loads(a_plan(title="t", body={}, sealed=False).to_json())
    full = json.loads(a_plan(title="t", body={}, sealed=True).to_json())
    assert not {"state_serials", "source", "seal"} & bare.keys()
    assert list(full) == list(Plan.model_fields)
