"""The technician PWA in a real Chromium against the live app: online install, twenty labels
scanned by the camera with the network really off (reload, reopen, reconnect: each operation
synced exactly once), and a session that expires while offline.

"Offline" is both Playwright's emulation (the page sees `offline`/`online` events) and a relay
between the browser and the app that is switched off, so the service worker cannot reach the
server either (see network.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.e2e.media import write_label_video
from tests.e2e.network import SwitchableNetwork
from tests.waiting import wait_until

GROUP = "prfi00e2esite"
PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 640}, "locale": "en-GB"}
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def site_group(live_server: LiveServer) -> str:
    """A deployment group on the platform for the visit."""
    from app.platform.provider import current_platform
    from app.services.groups import create_group

    with live_server.app.app_context():
        create_group(current_platform(), GROUP, "E2E site")
    return GROUP


@pytest.fixture
def network(live_server: LiveServer) -> Iterator[SwitchableNetwork]:
    """The phone's only way to the app; the tests switch it off and on."""
    port = int(live_server.url.rsplit(":", 1)[1])
    relay = SwitchableNetwork("127.0.0.1", port)
    yield relay
    relay.close()


def go_offline(phone: BrowserContext, network: SwitchableNetwork) -> None:
    network.switch(False)
    phone.set_offline(True)


def go_online(phone: BrowserContext, network: SwitchableNetwork) -> None:
    network.switch(True)
    phone.set_offline(False)


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


# ---- page helpers ---------------------------------------------------------------------------


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


def server_operations(live: LiveServer) -> list[Any]:
    from app.database import db
    from app.models.operations import Operation

    with live.app.app_context():
        ops = list(db.session.scalars(select(Operation)))
        db.session.expunge_all()
        return ops


def installed_records(live: LiveServer, tuid: str) -> list[dict[str, Any]]:
    return [
        r
        for r in live.emulator.state.installations(tuid)
        if r["installation_status"] == "installed"
    ]


def label_texts(tuids: list[str]) -> list[str]:
    """The TUIDs as printed on labels, in every format the parser accepts."""
    forms = [
        lambda t: f"{t[6:]},{t[:6]}",  # legacy PSN,IMC
        lambda t: f"I#{t[:6]},W#240117,S#{t[6:]}",  # markers
        lambda t: f"https://thingsee.com/d/{t}",  # URL
        lambda t: t,  # bare TUID
    ]
    return [forms[i % len(forms)](tuid) for i, tuid in enumerate(tuids)]


# ---- tests ----------------------------------------------------------------------------------


def test_online_install_reaches_the_platform(
    live_server: LiveServer,
    technician: tuple[str, str],
    site_group: str,
    open_phone: Callable[..., BrowserContext],
) -> None:
    (tuid,) = live_server.emulator.state.add_devices(count=1)
    phone = open_phone()
    page = first_page(phone)
    start_visit(page, live_server.url, technician, site_group)

    open_device(page, tuid)
    expect(page.locator("[data-testid=device-source]")).to_contain_text("From the platform")
    install_from_card(page)

    page.goto(live_server.url + "/#/queue")
    expect(page.locator("[data-testid=today-list] [data-state=synced]")).to_have_count(
        1, timeout=30_000
    )
    expect_waiting(page, 0)
    [op] = server_operations(live_server)
    assert (op.kind, op.tuid, op.args, op.state) == (
        "install",
        tuid,
        {"group_id": site_group},
        "synced",
    )
    assert len(installed_records(live_server, tuid)) == 1
    assert tuid in live_server.emulator.state.group_things(site_group)["tuids"]


def test_twenty_labels_offline_survive_reload_and_reopen_then_sync_exactly_once(
    live_server: LiveServer,
    technician: tuple[str, str],
    site_group: str,
    open_phone: Callable[..., BrowserContext],
    network: SwitchableNetwork,
    tmp_path: Path,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=20)
    camera = write_label_video(tmp_path / "labels.y4m", label_texts(tuids))

    phone = open_phone("phone", camera)
    page = first_page(phone)
    start_visit(page, network.url, technician, site_group)

    # No network from here on: the app must start, scan and queue on its own.
    go_offline(phone, network)
    page.reload()
    expect(page.locator("#scan-title")).to_be_visible()
    expect(page.locator(".conn-off")).to_be_visible()
    page.check("[data-testid=batch-mode]")
    page.click("[data-testid=start-camera]")
    wait_until(lambda: waiting(page) >= 6, 60, "the first labels to be queued")

    page.reload()  # still offline: the queue is in IndexedDB, the shell in the precache
    expect(page.locator("#scan-title")).to_be_visible()
    assert waiting(page) >= 6
    # The camera comes back on by itself, and the batch list is still there.
    expect(page.locator("[data-testid=start-camera]")).to_have_count(0)
    assert page.locator("[data-testid=batch-item]").count() >= 6
    wait_until(lambda: waiting(page) == 20, 120, "all 20 labels to be queued")
    # The video keeps looping over the same labels; none is queued twice.
    page.wait_for_timeout(3_000)
    assert waiting(page) == 20
    assert server_operations(live_server) == []
    phone.close()

    # The phone is switched off and on again, still without network.
    phone = open_phone("phone", camera)
    go_offline(phone, network)
    page = first_page(phone)
    page.goto(network.url + "/")
    expect_waiting(page, 20)
    page.goto(network.url + "/#/queue")
    expect(page.locator("[data-testid=waiting-list] [data-testid=op]")).to_have_count(20)

    expect(page.locator(".conn-off")).to_be_visible()
    assert server_operations(live_server) == []
    go_online(phone, network)
    expect_waiting(page, 0, timeout=30_000)

    def all_synced() -> bool:
        ops = server_operations(live_server)
        return len(ops) == 20 and all(op.state == "synced" for op in ops)

    wait_until(all_synced, 60, "20 operations synced on the platform")
    ops = server_operations(live_server)
    assert sorted(op.tuid for op in ops) == sorted(tuids)
    assert len({op.op_id for op in ops}) == 20
    assert {op.kind for op in ops} == {"install"}
    for tuid in tuids:
        assert len(installed_records(live_server, tuid)) == 1, tuid
    try:
        expect(page.locator("[data-testid=today-list] [data-state=synced]")).to_have_count(
            20, timeout=30_000
        )
    except AssertionError as failure:
        # What the phone believes, so that a failure on a loaded CI machine can be read.
        chips = page.locator("[data-testid=today-list] [data-state]")
        states = [chips.nth(i).get_attribute("data-state") for i in range(chips.count())]
        status = page.locator("[aria-labelledby=queue-title] [role=status]").all_inner_texts()
        raise AssertionError(f"phone shows {states}; sync line {status}") from failure


def end_every_sign_in(live: LiveServer, username: str) -> None:
    """Do what an admin's "sign out everywhere" does, on the server."""
    from app.services import accounts, sign_ins

    with live.app.app_context():
        assert sign_ins.end_all(accounts.find_user(username).id) >= 1


@pytest.mark.parametrize("ended_by", ["cookies_lost", "signed_out_everywhere"])
def test_session_expired_offline_keeps_the_queue_and_sends_it_after_signing_in_again(
    ended_by: str,
    live_server: LiveServer,
    technician: tuple[str, str],
    site_group: str,
    open_phone: Callable[..., BrowserContext],
    network: SwitchableNetwork,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=3)
    phone = open_phone()
    page = first_page(phone)
    start_visit(page, network.url, technician, site_group)

    go_offline(phone, network)
    expect(page.locator(".conn-off")).to_be_visible()
    for tuid in tuids:
        open_device(page, tuid)
        install_from_card(page)
    expect_waiting(page, 3)

    # The session ends while the phone is away: its cookies are gone, or an admin signed the
    # technician out everywhere (the phone still holds cookies the server no longer accepts).
    if ended_by == "cookies_lost":
        phone.clear_cookies()
    else:
        end_every_sign_in(live_server, technician[0])
    go_online(phone, network)
    expect(page.locator("[data-testid=session-expired]")).to_be_visible(timeout=30_000)
    assert waiting(page) == 3
    assert server_operations(live_server) == []

    page.click("[data-testid=session-expired] button")
    expect(page.locator("#password")).to_be_visible()
    expect(page.locator("#username")).to_have_value(technician[0])
    page.fill("#password", technician[1])
    page.click("button[type=submit]")

    expect_waiting(page, 0, timeout=30_000)
    wait_until(lambda: len(server_operations(live_server)) == 3, 30, "3 operations on the server")
    assert sorted(op.tuid for op in server_operations(live_server)) == sorted(tuids)
