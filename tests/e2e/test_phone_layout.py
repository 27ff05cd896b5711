"""The technician app at 360x740: a header that says what it is and whether there is a
connection in words, a technician with no group asked to pick one, the device card's actions
ordered by the device with retire apart, and every tap target at least 48 px (gloves)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.waiting import wait_until

PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 740}, "locale": "en-GB"}
GROUP = "prfi00layout"
TARGETS = (
    "button, a[href], select, input:not([type=checkbox]):not([type=radio]), summary, label.switch"
)


def small_targets(page: Page) -> list[str]:
    """Visible controls under 48 px in height (or width), described by their text."""
    found: list[str] = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((el) => !el.closest('.skip, .visually-hidden') && el.getClientRects().length)
            .map((el) => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.width > 0 && (r.height < 47.5 || r.width < 47.5))
            .map(([el, r]) => {
              const text = (el.textContent || el.getAttribute('aria-label') || '').trim();
              const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
              return `${el.tagName}#${el.id}.${el.className} "${text.slice(0, 30)}" ${size}`;
            })""",
        TARGETS,
    )
    return found


def test_phone_screens_at_360(
    live_server: LiveServer, technician: tuple[str, str], browser: Any
) -> None:
    from app.platform.provider import current_platform
    from app.services.groups import create_group

    with live_server.app.app_context():
        create_group(current_platform(), GROUP, "Layout site")
    (tuid,) = live_server.emulator.state.add_devices(count=1)
    context = browser.new_context(**PHONE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.fill("#username", technician[0])
    page.fill("#password", technician[1])
    page.click("button[type=submit]")
    expect(page.locator("#group-title")).to_be_visible()

    # No group yet: the scan screen asks for one, with a way there.
    page.goto(live_server.url + "/#/scan")
    expect(page.locator("[data-testid=group-prompt]")).to_be_visible()
    header = page.locator("header.top")
    expect(header.locator(".brand-name")).to_have_text("Fieldhand")
    expect(header.locator(".brand-name")).to_be_visible()
    expect(page.locator("[data-testid=connection]")).to_have_text("Online")
    expect(page.locator("[data-testid=queue-badge]")).to_contain_text(re.compile(r"0\s*waiting"))
    page.locator("[data-testid=group-prompt] button").click()
    page.locator(".list-button", has_text=GROUP).click()
    expect(page.locator("[data-testid=group-prompt]")).to_have_count(0)
    page.check("[data-testid=batch-mode]")
    expect(page.locator("[data-testid=batch-strip]")).to_contain_text("0 labels")
    assert small_targets(page) == [], "scan screen"

    # A new device: install first and filled; retire apart, not next to quarantine.
    page.uncheck("[data-testid=batch-mode]")
    page.locator("[data-testid=manual-tuid]").fill(tuid)
    page.locator("[data-testid=manual-tuid]").press("Enter")
    expect(page.locator("[data-testid=device-source]")).to_be_visible()
    first = page.locator("[data-testid=device-actions] button").first
    expect(first).to_have_attribute("data-testid", "action-install")
    expect(first).to_have_class(re.compile("btn-primary"))
    expect(page.locator("[data-testid=device-actions] [data-testid=action-retire]")).to_have_count(
        0
    )
    expect(page.locator(".actions-apart [data-testid=action-retire]")).to_be_visible()
    assert small_targets(page) == [], "device card"

    # Installed: nothing is pushed as primary, installing again comes last.
    page.click("[data-testid=action-install]")
    expect(page.locator("#scan-title")).to_be_visible()
    page.goto(live_server.url + "/#/queue")
    expect(page.locator("#queue-title")).to_be_visible()
    assert small_targets(page) == [], "queue"
    history = live_server.emulator.state.installation_history
    wait_until(
        lambda: any(r["installation_status"] == "installed" for r in history(tuid)), 60, "sync"
    )
    page.goto(live_server.url + f"/#/device/{tuid}")
    expect(page.locator("[data-testid=device-status]")).to_contain_text("Installed")
    actions = page.locator("[data-testid=device-actions] button")
    expect(actions.first).to_have_attribute("data-testid", "action-remove")
    expect(actions.last).to_have_attribute("data-testid", "action-install")
    expect(page.locator("[data-testid=device-actions] .btn-primary")).to_have_count(0)

    page.goto(live_server.url + "/#/group")
    expect(page.locator("#group-title")).to_be_visible()
    expect(page.locator("[data-testid=group-create-who]")).to_contain_text("supervisors or admins")
    page.fill("input[type=search]", "nosuchsite")
    expect(page.locator("[data-testid=groups-empty]")).to_contain_text("No group matches")
    assert small_targets(page) == [], "group screen"
    context.close()
