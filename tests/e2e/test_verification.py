"""Install verification in a real Chromium: a technician installs two devices from the phone,
one powers on and one stays silent; the phone's card and batch summary, then the console's
history, silent list and overview show which is which. Short windows (a second's polls) so the
worker decides within seconds on the real clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e import phone as on_phone
from tests.e2e.conftest import LiveServer
from tests.e2e.network import SwitchableNetwork
from tests.e2e.test_supervisor_console import (  # noqa: F401
    DESKTOP,
    sign_in,
    supervisor,
)
from tests.waiting import wait_until


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Verification decided within seconds: look every second, silent after four."""
    return {**app_config, "VERIFY_POLL_S": 1.0, "VERIFY_WINDOW_S": 4.0}


def _states(live: LiveServer) -> dict[str, str]:
    from sqlalchemy import select

    from app.database import db
    from app.models.verifications import InstallVerification

    with live.app.app_context():
        states = {v.tuid: v.state for v in db.session.scalars(select(InstallVerification))}
        db.session.remove()
    return states


def test_a_verified_and_a_silent_device_on_the_phone_and_in_the_console(
    live_server: LiveServer,
    supervisor: tuple[str, str],  # noqa: F811
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
    browser: Any,
) -> None:
    emulator = live_server.emulator.state
    alive, quiet = emulator.add_devices(count=2)
    emulator.power_plan({alive: None, quiet: None})  # both in their boxes, silent
    phone, page = visit()
    for tuid in (alive, quiet):
        on_phone.open_device(page, tuid)
        on_phone.install_from_card(page)
    wait_until(lambda: len(_states(live_server)) == 2, timeout=30)
    emulator.power_on(alive)  # mounted and powered: it reports after its install
    wait_until(lambda: _states(live_server) == {alive: "verified", quiet: "silent"}, timeout=30)

    # The phone: each card says it, with the next step for the silent one; the queue sums up.
    on_phone.open_device(page, alive)
    card = page.locator("[data-testid=device-verification]")
    expect(card).to_have_attribute("data-state", "verified")
    expect(page.locator("[data-testid=device-last-seen]")).not_to_have_text("never")
    expect(page.locator("[data-testid=device-messages] li").first).to_be_visible()
    page.goto(network.url + f"/#/device/{quiet}")
    expect(page.locator("[data-testid=device-verification]")).to_have_attribute(
        "data-state", "silent"
    )
    expect(page.locator("[data-testid=silent-next-step]")).to_contain_text("battery tab")
    page.goto(network.url + "/#/queue")
    summary = page.locator("[data-testid=batch-verification]")
    expect(summary.locator("[data-testid=batch-verified]")).to_have_text("1 verified")
    expect(summary.locator("[data-testid=batch-silent]")).to_have_text("1 silent")
    expect(summary).to_contain_text(quiet)

    # The console: history's column and filter, the silent list, the overview's tiles.
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    console: Page = context.new_page()
    sign_in(console, live_server.url, supervisor)
    console.goto(live_server.url + "/console.html#/history")
    rows = console.locator("[data-testid=history-table] tbody tr")
    expect(rows).to_have_count(2)
    expect(console.locator(f"tr:has-text('{alive}') [data-verification=verified]")).to_be_visible()
    expect(console.locator(f"tr:has-text('{quiet}') [data-verification=silent]")).to_be_visible()
    console.goto(live_server.url + "/console.html#/history?verification=silent")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(quiet)
    console.goto(live_server.url + "/console.html#/silent")
    expect(console.locator("[data-testid=silent-table] tbody tr")).to_have_count(1)
    expect(console.locator("[data-testid=silent-table]")).to_contain_text(quiet)
    console.goto(live_server.url + "/console.html#/overview")
    expect(console.locator("[data-testid=tile-verified] .c-tile-value")).to_have_text("1")
    expect(console.locator("[data-testid=tile-silent] .c-tile-value")).to_have_text("1")
    expect(console.locator(".c-chart svg").first).to_be_visible()
    expect(console.locator("[data-testid=phones-table]")).to_contain_text("Terttu")
    context.close()
