"""Terminal colour for the text renderers: ANSI SGR codes, only when the caller asks.

Every renderer takes `color: bool`; with False the output holds no escape character at all, so
logs, CI output and snapshots stay plain.
"""

from __future__ import annotations

from enum import StrEnum

_ESC = "\x1b"


class Tint(StrEnum):
    """SGR parameters used by pushctl's output."""

    BOLD = "1"
    DIM = "2"
    RED = "31"
    GREEN = "32"
    YELLOW = "33"
    MAGENTA = "35"
    CYAN = "36"


def paint(text: str, *tints: Tint, color: bool) -> str:
    """Wrap `text` in the given tints when `color` is on; return it unchanged otherwise."""
    if not color or not tints or not text:
        return text
    codes = ";".join(tint.value for tint in tints)
    return f"{_ESC}[{codes}m{text}{_ESC}[0m"
