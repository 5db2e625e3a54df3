"""The escapes are per-character rules; these check the whole-string forms against them."""

from __future__ import annotations

import html
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.render.markdown import escape_html, escape_markdown
from reconciler.render.values import clean_text

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
