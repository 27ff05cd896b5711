"""The technician's phone in browser tests: what a test does with it (sign in, switch the network
off, open a device, install) and what it reads on the screen (the waiting count).

The fixtures that open a phone and start a visit (`open_phone`, `visit`, `network`,
`site_group`) are in tests/e2e/conftest.py; what reached the server, `LiveServer` reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.network import SwitchableNetwork
from tests.waiting import wait_until


def go_offline(phone: BrowserContext, network: SwitchableNetwork) -> None:
    network.switch(False)
    phone.set_offline(True)


def go_online(phone: BrowserContext, network: SwitchableNetwork) -> None:
    network.switch(True)
    phone.set_offline(False)


def first_page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


def sign_in(page: Page, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def start_visit(page: Page, url: str, user: tuple[str, str], group: str) -> None:
    """Open the app, sign in, pick the group, and wait for the service worker to take over."""
    page.goto(url + "/")
    sign_in(page, *user)
    page.locator(".list-button", has_text=group).click()
    expect(page.locator("#scan-title")).to_be_visible()
    # Polled from here: wait_for_function evaluates strings in the page, which the CSP forbids.
    wait_until(
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"),
        20,
        "the service worker to take control",
    )


def made_today(page: Page, operations: Iterable[Any]) -> int:
    """How many of these operations the phone lists under "Today": those it made since its own
    midnight (a run that crosses midnight lists only the later ones, as it should)."""
    midnight_ms = page.evaluate("() => new Date().setHours(0, 0, 0, 0)")
    count = 0
    for op in operations:
        made = op.device_time if op.device_time.tzinfo else op.device_time.replace(tzinfo=UTC)
        count += made.timestamp() * 1000 >= midnight_ms
    return count


def waiting(page: Page) -> int:
    return int(page.locator("[data-testid=waiting-count]").inner_text())


def expect_waiting(page: Page, count: int, timeout: float = 20_000) -> None:
    expect(page.locator("[data-testid=waiting-count]")).to_have_text(str(count), timeout=timeout)


def open_device(page: Page, text: str) -> None:
    page.locator("[data-testid=manual-tuid]").fill(text)
    page.locator("[data-testid=manual-tuid]").press("Enter")
    expect(page.locator("[data-testid=device-source]")).to_be_visible()


def install_from_card(page: Page) -> None:
    page.click("[data-testid=action-install]")
    if page.locator("dialog[open] [data-testid=confirm]").count():
        page.click("dialog[open] [data-testid=confirm]")
    expect(page.locator("#scan-title")).to_be_visible()


def install_offline(
    phone: BrowserContext, page: Page, network: SwitchableNetwork, tuids: list[str]
) -> None:
    """Switch the network off and install each device from its card: all of them wait."""
    go_offline(phone, network)
    expect(page.locator(".conn-off")).to_be_visible()
    for tuid in tuids:
        open_device(page, tuid)
        install_from_card(page)
    expect_waiting(page, len(tuids))


def label_texts(tuids: list[str]) -> list[str]:
    """The TUIDs as printed on labels, in every format the parser accepts."""
    forms = [
        lambda t: f"{t[6:]},{t[:6]}",  # legacy PSN,IMC
        lambda t: f"I#{t[:6]},W#240117,S#{t[6:]}",  # markers
        lambda t: f"https://thingsee.com/d/{t}",  # URL
        lambda t: t,  # bare TUID
    ]
    return [forms[i % len(forms)](tuid) for i, tuid in enumerate(tuids)]
