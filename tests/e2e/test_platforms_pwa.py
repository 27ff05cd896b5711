"""The PWA on a platform without deployment groups or installation history (thingsHub): it
reads the platform's labels, installs without picking a group and says what it cannot show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.waiting import wait_until


@pytest.fixture
def phone(playwright_instance: Any, tmp_path: Path) -> Iterator[Any]:
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "phone"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 390, "height": 844},
        locale="en-GB",
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.mark.parametrize("platform_name", ["thingshub"])
def test_thingshub_install_from_a_lorawan_label_without_a_group(
    live_server: Any, technician: tuple[str, str], phone: Any
) -> None:
    (eui,) = live_server.emulator.state.add_devices(count=1)
    page = phone.pages[0] if phone.pages else phone.new_page()
    page.goto(live_server.url + "/")
    page.fill("#username", technician[0])
    page.fill("#password", technician[1])
    page.click("button[type=submit]")
    expect(page.locator("#scan-title")).to_be_visible()  # no group to pick first

    page.locator("[data-testid=manual-tuid]").fill("70B3D57ED0041D8")
    page.locator("[data-testid=manual-tuid]").press("Enter")
    expect(page.get_by_text("This DevEUI has the wrong length (15 characters).")).to_be_visible()

    page.locator("[data-testid=manual-tuid]").fill(f"LW:D0:70B3D57ED0000000:{eui}:AABB1122")
    page.locator("[data-testid=manual-tuid]").press("Enter")
    expect(page.locator("[data-testid=device-tuid]")).to_have_text(eui)
    expect(page.locator("[data-testid=no-platform-history]")).to_contain_text("thingsHub")
    expect(page.locator("[data-testid=device-group]")).to_have_count(0)
    expect(page.locator("[data-testid=action-install]")).to_have_text("Install")
    page.click("[data-testid=action-install]")
    expect(page.locator("#scan-title")).to_be_visible()

    def installed() -> bool:
        history = live_server.emulator.state.installation_history(eui)
        return bool(history[-1]["installation_status"] == "installed")

    wait_until(installed, what="the install to reach thingsHub")
    page.goto(live_server.url + "/#/group")
    expect(page.locator("[data-testid=no-groups]")).to_contain_text("no deployment groups")
