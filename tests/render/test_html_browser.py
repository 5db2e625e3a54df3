"""The HTML plan as a reviewer's browser draws it: headless Chromium loads the page, and the
test reads the DOM it built (`--dump-dom`) and keeps a screenshot beside the test's files.

`make test` installs Debian's chromium when it is missing; the test is skipped only when no
chromium binary can be found at all.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reconciler.domain.plan import Plan
from reconciler.render.html import render_plan_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (make test installs Debian's chromium)"
)
HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")


class Dom(HTMLParser):
    """The cards (channel, title, content) and timeline entries of a dumped page."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, str]] = []
        self.timeline: list[str] = []
        self.tags: set[str] = set()
        self._field: str | None = None
        self._in_timeline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        classes = (dict(attrs).get("class") or "").split()
        if "card" in classes:
            self.cards.append({"classes": " ".join(classes)})
        elif self.cards and {"channel", "title", "content"} & set(classes):
            self._field = next(c for c in classes if c in ("channel", "title", "content"))
        if "timeline" in classes:
            self._in_timeline = True
        if self._in_timeline and tag == "li":
            self.timeline.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._field = None
        if tag == "ol":
            self._in_timeline = False

    def handle_data(self, data: str) -> None:
        if self._field and self.cards:
            card = self.cards[-1]
            card.setdefault(self._field, data)
        if self._in_timeline and self.timeline:
            self.timeline[-1] += data


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *HEADLESS, *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def page(tmp_path: Path, full_plan: Plan) -> Path:
    path = tmp_path / "plan.html"
    path.write_text(render_plan_html(full_plan), encoding="utf-8")
    return path


def test_the_browser_draws_a_card_per_channel_and_the_timeline(page: Path) -> None:
    result = chromium("--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr
    dom = Dom()
    dom.feed(result.stdout)
    # full_plan sends three notifications. spring-sale fits every channel: one card.
    # bf-teaser-v2 is cut by the TPNS channel (20 characters) and shows the message it
    # replaces; weekly-digest fits everywhere and replaces a scheduled digest.
    teaser = [c for c in dom.cards if c.get("title", "").startswith("Black Friday starts")]
    assert {c["channel"] for c in teaser} == {"Android (TPNS)", "Mi, Huawei, Meizu, OPPO, vivo"}
    assert {c["title"] for c in teaser} == {"Black Friday starts…", "Black Friday starts now"}
    old = [c.get("title", "") for c in dom.cards if "old" in c["classes"].split()]
    assert old == ["Black Friday teaser", ""]
    assert len(dom.cards) == 6
    assert [entry.strip() for entry in dom.timeline] == [
        "2026-11-30 09:00 +08:00last moment to apply: shop-ios/cyber-monday will be cancelled",
        "2026-11-30 09:00 +08:00the plan expires",
        "2026-12-01 09:00 +08:00shop-android/spring-sale is sent",
        "2026-12-03 08:00 +08:00last moment to apply: shop-ios/weekly-digest will be replaced",
        "2026-12-03 08:00 +08:00shop-ios/weekly-digest is sent",
    ]
    assert "script" not in dom.tags


def test_a_screenshot_is_kept(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "plan.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a drawn page, not an empty canvas
