"""Browser end-to-end fixtures: the real app over HTTP with a sync worker, and Debian's Chromium.

Never downloads a browser: Playwright drives the Chromium at FIELDHAND_CHROMIUM
(default /usr/bin/chromium), which `make test` installs from Debian's packages.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from app.sync.worker import SyncWorker
from emulator.server import EmulatorServer
from tests.e2e.network import SwitchableNetwork

# Playwright's 5 s default is less than one password check takes at a load average of 24
# (argon2id, median 1.4 s, up to 6 s seen): a loaded CI machine must not fail a sign-in.
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parents[2]
PWA_DIST = ROOT / "pwa" / "dist"
CHROMIUM = os.environ.get("FIELDHAND_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SITE_GROUP = "prfi00e2esite"
PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 640}, "locale": "en-GB"}
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@dataclass
class LiveServer:
    url: str
    app: Flask
    emulator: EmulatorServer
    worker: SyncWorker

    def operations(self) -> list[Any]:
        """Every operation the server stored, detached from the session."""
        from app.database import db
        from app.models.operations import Operation

        with self.app.app_context():
            ops = list(db.session.scalars(select(Operation)))
            db.session.expunge_all()
            return ops

    def installed_records(self, tuid: str) -> list[dict[str, Any]]:
        """The platform's installation records that say `installed` for this device."""
        return [
            r
            for r in self.emulator.state.installations(tuid)
            if r["installation_status"] == "installed"
        ]


@pytest.fixture
def live_server(app_config: dict[str, Any], emulator: EmulatorServer) -> Iterator[LiveServer]:
    """The app on a free loopback port serving the built PWA, with a sync worker thread."""
    if not (PWA_DIST / "index.html").exists():
        pytest.fail("pwa/dist is not built: run `make pwa` (make test does it)")
    from app import create_app
    from tests.conftest import _empty_tables

    # A test may serve another copy of the PWA (E2E_PWA_DIST: a deploy mid-shift).
    dist = app_config.get("E2E_PWA_DIST", str(PWA_DIST))
    config = dict(app_config, PWA_DIST=dist, LOGIN_RATE_LIMIT="1000 per minute")
    application = create_app(config)
    _empty_tables(application)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, application, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    worker = SyncWorker(application)
    working = threading.Thread(target=worker.run, daemon=True)
    working.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", application, emulator, worker)
    finally:
        worker.stop()
        working.join(15)
        server.shutdown()
        serving.join(10)
        from app.platform.provider import EXTENSION_KEY

        platform = application.extensions.pop(EXTENSION_KEY, None)
        if platform is not None:
            platform.close()  # its HTTP connections to the emulator
        _empty_tables(application)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    """Playwright's sync API, started once."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def browser(playwright_instance: Any) -> Iterator[Any]:
    """A fresh headless Chromium."""
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def technician(live_server: LiveServer) -> tuple[str, str]:
    """A technician account on the live server: (username, password)."""
    from app.services.accounts import create_user

    with live_server.app.app_context():
        create_user("terttu", "field work 2026", "technician", display_name="Terttu Tekninen")
    return "terttu", "field work 2026"


# ---- the technician's phone (what a test does with it: tests/e2e/phone.py) --------------------


@pytest.fixture
def site_group(live_server: LiveServer) -> str:
    """A deployment group on the platform for the visit."""
    from app.platform.provider import current_platform
    from app.services.groups import create_group

    with live_server.app.app_context():
        create_group(current_platform(), SITE_GROUP, "E2E site")
    return SITE_GROUP


@pytest.fixture
def network(live_server: LiveServer) -> Iterator[SwitchableNetwork]:
    """The phone's only way to the app; the tests switch it off and on."""
    port = int(live_server.url.rsplit(":", 1)[1])
    relay = SwitchableNetwork("127.0.0.1", port)
    yield relay
    relay.close()


@pytest.fixture
def open_phone(playwright_instance: Any, tmp_path: Path) -> Iterator[Callable[..., BrowserContext]]:
    """Open a phone's browser profile; opening the same profile again is the phone reopened."""
    opened: list[BrowserContext] = []

    def _open(profile: str = "phone", camera: Path | None = None) -> BrowserContext:
        args = list(CHROMIUM_ARGS)
        if camera is not None:
            args += [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={camera}"]
        context = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / profile), executable_path=CHROMIUM, headless=True, args=args, **PHONE
        )
        context.set_default_timeout(20_000)
        opened.append(context)
        return context

    yield _open
    for context in opened:
        with contextlib.suppress(Exception):  # the test may have closed it already
            context.close()


@pytest.fixture
def visit(
    open_phone: Callable[..., BrowserContext],
    technician: tuple[str, str],
    site_group: str,
    network: SwitchableNetwork,
) -> Callable[..., tuple[BrowserContext, Page]]:
    """Open the phone (filming this label video, if any) and start the technician's visit:
    signed in through the switchable network, at the site, the service worker in control."""
    from tests.e2e.phone import first_page, start_visit

    def _visit(camera: Path | None = None) -> tuple[BrowserContext, Page]:
        phone = open_phone("phone", camera)
        page = first_page(phone)
        start_visit(page, network.url, technician, site_group)
        return phone, page

    return _visit
