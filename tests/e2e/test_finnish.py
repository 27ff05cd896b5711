"""The apps in Finnish: no sentence from the English catalogue on any screen a technician or a
supervisor sees, even when the platform refuses an action (its own words only under "details").

The check reads the English catalogues (pwa/src/*/catalogue/en.ts) and looks for every phrase of
two words or more that the Finnish catalogue does not share in the text the browser renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
GROUP = "prfi00tehdas"
PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 740}, "locale": "fi-FI"}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "fi-FI"}
ENTRY = re.compile(
    r"""^\s+'?([\w.\- ]+)'?: (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"),\s*$""", re.MULTILINE
)


def catalogue(path: Path) -> dict[str, str]:
    """Read a catalogue's `key: 'text'` entries."""
    entries = ENTRY.findall(path.read_text("utf-8"))
    return {key: (single or double).replace("\\'", "'") for key, single, double in entries}


def english_phrases(app: str) -> set[str]:
    """Phrases (2+ words) of the English catalogue that the Finnish one does not also use."""
    en = catalogue(ROOT / "pwa" / "src" / app / "catalogue" / "en.ts")
    fi = catalogue(ROOT / "pwa" / "src" / app / "catalogue" / "fi.ts")
    assert len(en) > 100 and set(en) == set(fi)
    finnish = " ".join(fi.values())
    phrases = set()
    for text in en.values():
        for part in re.split(r"\{\w+\}", text):
            part = part.strip(" .,:;·–()“”'")
            if len(part.split()) >= 2 and part not in finnish:
                phrases.add(part)
    return phrases


def english_on_screen(page: Page, phrases: set[str]) -> list[str]:
    text = " ".join(page.locator("body").inner_text().split())
    return sorted(p for p in phrases if " ".join(p.split()) in text)


@pytest.fixture
def site(live_server: LiveServer) -> list[str]:
    """A group for the visit and three new devices on the platform."""
    from app.platform.provider import current_platform
    from app.services.groups import create_group

    with live_server.app.app_context():
        create_group(current_platform(), GROUP, "Tehdas")
    return list(live_server.emulator.state.add_devices(count=3))


@pytest.fixture
def finnish_browser(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def _open(options: dict[str, Any]) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def test_no_english_sentence_in_finnish_mode(
    live_server: LiveServer,
    technician: tuple[str, str],
    site: list[str],
    finnish_browser: Any,
) -> None:
    from app.services.accounts import create_user

    with live_server.app.app_context():
        create_user("saara", "valvoja 2026", "supervisor", display_name="Saara Valvoja")
    good, refused, _ = site
    # The platform refuses the install of one device with a 400 (its English words are raw text).
    live_server.emulator.state.update_settings(
        fail_next=[{"status": 400, "method": "POST", "path": f"/things/{refused}/installations"}]
    )
    phone_words = english_phrases("ui")
    page = finnish_browser(PHONE)
    page.goto(live_server.url + "/")
    assert english_on_screen(page, phone_words) == []  # sign-in screen
    page.fill("#username", technician[0])
    page.fill("#password", technician[1])
    page.click("button[type=submit]")
    page.locator(".list-button", has_text=GROUP).click()
    expect(page.locator("#scan-title")).to_have_text("Skannaa tarroja")
    assert english_on_screen(page, phone_words) == []  # scan screen

    for tuid in (good, refused):
        page.locator("[data-testid=manual-tuid]").fill(tuid)
        page.locator("[data-testid=manual-tuid]").press("Enter")
        expect(page.locator("[data-testid=device-source]")).to_be_visible()
        expect(page.locator("[data-testid=device-type]")).not_to_have_text(re.compile("[A-Z]{4}"))
        assert english_on_screen(page, phone_words) == []  # device card
        page.click("[data-testid=action-install]")
        expect(page.locator("#scan-title")).to_be_visible()
    assert english_on_screen(page, phone_words) == []  # scan screen with the "queued" toast

    page.click("[data-testid=queue-badge]")
    failed = page.locator("[data-testid=attention-list] [data-testid=op-reason]")
    expect(failed).to_contain_text("Alusta hylkäsi toimenpiteen", timeout=30_000)
    assert english_on_screen(page, phone_words) == []  # queue with a refused action
    # The platform's own words are there, folded under "Lisätiedot".
    failed.locator("summary").click()
    expect(failed.locator(".explained-details")).to_contain_text("Injected failure")

    console_words = english_phrases("console")
    desk = finnish_browser(DESKTOP)
    desk.goto(live_server.url + "/console.html")
    desk.fill("#username", "saara")
    desk.fill("#password", "valvoja 2026")
    desk.click("button[type=submit]")
    expect(desk.locator("[data-testid=tab-history]")).to_be_visible()
    for tab in ("overview", "history", "silent", "inbox", "bulk"):
        desk.click(f"[data-testid=tab-{tab}]")
        desk.wait_for_load_state("networkidle")
        expect(desk.locator("main h1")).to_be_visible()
        assert english_on_screen(desk, console_words) == [], tab

    # The inbox and the device timeline explain the refusal in Finnish by its code; the
    # platform's English words are only under "Lisätiedot".
    desk.click("[data-testid=tab-inbox]")
    message = desk.locator("[data-testid=platform-message]").first
    expect(message.locator("[data-testid=error-explained]")).to_contain_text("Alusta hylkäsi")
    expect(message.locator("details summary")).to_have_text("Lisätiedot")
    expect(message.locator("[data-testid=raw-message]")).to_contain_text("Injected failure")
    desk.locator(".c-failure-tuid").first.click()
    timeline = desk.locator("[data-testid=timeline]")
    expect(timeline.locator("[data-testid=error-explained]").first).to_contain_text(
        "Alusta hylkäsi"
    )
    assert english_on_screen(desk, console_words) == [], "timeline"
    assert "Injected failure" not in timeline.inner_text()  # folded away until asked for
