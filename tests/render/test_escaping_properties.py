"""The escapes are per-character rules; these check the whole-string forms against them, and
the text renderer's diff lines against the entries they stand for."""

from __future__ import annotations

import html
import unicodedata

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.domain.plan import Action, Change, DiffEntry
from reconciler.render.markdown import escape_html, escape_markdown
from reconciler.render.values import (
    clean_text,
    displayed_diff,
    displayed_diff_texts,
    format_diff_entry,
)

#: Text rich in what the escapes act on: controls, C1 codes, Markdown and HTML punctuation.
tricky_text = st.text(
    alphabet=st.sampled_from("\x00\x1b\r\n\t\x7f\x85\x9f\xa0 @&<>\"'\\`*_[]()|~#!$aé春🎉\u2028")
    | st.characters(),
)


def control_escaped(char: str) -> str:
    if char == "\n" or unicodedata.category(char) != "Cc":
        return char
    return f"\\x{ord(char):02x}"


def html_char(char: str) -> str:
    return "@&#8203;" if char == "@" else html.escape(char, quote=True)


@settings(max_examples=300, deadline=None)
@given(text=tricky_text)
def test_clean_text_escapes_exactly_the_control_characters(text: str) -> None:
    assert clean_text(text) == "".join(control_escaped(char) for char in text)


@settings(max_examples=300, deadline=None)
@given(text=tricky_text)
def test_escape_markdown_escapes_each_character_by_its_rule(text: str) -> None:
    expected = "".join(
        "\\" + char if char in "\\`*_[]()|~#!$" else "<br>" if char == "\n" else html_char(char)
        for char in clean_text(text)
    )
    assert escape_markdown(text) == expected


@settings(max_examples=300, deadline=None)
@given(text=tricky_text)
def test_escape_html_escapes_each_character_by_its_rule(text: str) -> None:
    one_line = clean_text(text).replace("\r", " ").replace("\n", " ")
    assert escape_html(text) == "".join(html_char(char) for char in one_line)


json_leaf = (
    st.none() | st.booleans() | st.integers() | tricky_text | st.lists(tricky_text, max_size=2)
)
json_content = st.recursive(
    st.dictionaries(tricky_text, json_leaf, min_size=1, max_size=4),
    lambda inner: st.dictionaries(tricky_text, json_leaf | inner, min_size=1, max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(content=json_content, nested=st.booleans())
def test_diff_texts_are_the_formatted_displayed_diff(
    content: dict[str, object], nested: bool
) -> None:
    # The text renderer formats a new push's fields without an entry object each; the lines
    # must stay those of `format_diff_entry` over `displayed_diff`.
    # A plan's `after` holds its push body under "push", a dict, when it has that key at all.
    assume(nested or isinstance(content.get("push", {}), dict))
    after = {"push": content} if nested else content
    created = Change(address="app/t", app="app", action=Action.CREATE, reason="r", after=after)
    changed = created.model_copy(
        update={
            "before": {"x": 1},
            "diff": (DiffEntry(op="change", path="x", old=1, new=content),),
        }
    )
    for change in (created, changed):
        expected = [format_diff_entry(entry) for entry in displayed_diff(change)]
        assert list(displayed_diff_texts(change)) == expected
