"""The PWA and the console work under the app's Content-Security-Policy (issue #13 row 9).

Both pages run signed in through their main screens in Chromium (the technician app scans a
label with the camera, which loads the QR decoder's WebAssembly) while every CSP violation and
console error is collected; any one fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from app.security_headers import CONTENT_SECURITY_POLICY
from tests.e2e import phone as on_phone
from tests.e2e.conftest import LiveServer
from tests.e2e.media import write_label_video
from tests.e2e.network import SwitchableNetwork
from tests.waiting import wait_until

# Runs before any page script, outside the page's CSP: records what the policy blocked.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""

# Chromium logs each refused request; these statuses are answers the apps expect and handle.
EXPECTED_STATUS = ("status of 401",)


class Watch:
    """CSP violations and console errors of every page in a browser context."""

    def __init__(self, context: BrowserContext) -> None:
        self.errors: list[str] = []
        self.pages: list[Page] = []
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("page", self._watch)
        for page in context.pages:
            self._watch(page)

    def _watch(self, page: Page) -> None:
        self.pages.append(page)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        if not any(expected in text for expected in EXPECTED_STATUS):
            self.errors.append(f"console: {text}")

    def problems(self, page: Page) -> list[str]:
        violations = page.evaluate("window.__cspViolations || []")
        return [*violations, *self.errors]


def test_pwa_signed_in_scanning_has_no_csp_violation(
    live_server: LiveServer,
    technician: tuple[str, str],
    site_group: str,
    open_phone: Callable[..., BrowserContext],
    network: SwitchableNetwork,
    tmp_path: Path,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=2)
    camera = write_label_video(tmp_path / "labels.y4m", on_phone.label_texts(tuids))
    phone = open_phone("phone", camera)
    watch = Watch(phone)  # before the first page loads, so sign-in is watched too
    page = on_phone.first_page(phone)
    on_phone.start_visit(page, network.url, technician, site_group)
    assert page.evaluate("window.__cspViolations") == []  # the recorder is in place

    response = page.request.get(network.url + "/")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    page.check("[data-testid=batch-mode]")
    page.click("[data-testid=start-camera]")
    # Scanned (the decoder ran) and sent (the API calls pass the policy too).
    wait_until(lambda: len(live_server.operations()) == 2, 60, "2 scans on the server")
    on_phone.expect_waiting(page, 0, timeout=30_000)
    page.reload()
    expect(page.locator("#scan-title")).to_be_visible()
    assert watch.problems(page) == []


def test_console_signed_in_sections_have_no_csp_violation(
    live_server: LiveServer, browser: Any
) -> None:
    from app.services.accounts import create_user

    with live_server.app.app_context():
        create_user("aaro", "administering 2026", "admin", display_name="Aaro Admin")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(20_000)
    watch = Watch(context)
    page = context.new_page()
    page.goto(live_server.url + "/console.html")
    page.fill("#username", "aaro")
    page.fill("#password", "administering 2026")
    page.click("button[type=submit]")
    for section in ("history", "inbox", "bulk", "users"):
        page.click(f"[data-testid=tab-{section}]")
        expect(page.locator("main h1")).to_be_visible()
    page.click("[data-testid=tab-history]")
    expect(page.locator("main h1")).to_have_text("Install history")
    page.wait_for_load_state("networkidle")
    assert watch.problems(page) == []
    context.close()
