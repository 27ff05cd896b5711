"""The technician PWA in a real Chromium against the live app: online install, twenty labels
scanned by the camera with the network really off (reload, reopen, reconnect: each operation
synced exactly once), and a session that expires while offline.

"Offline" is both Playwright's emulation (the page sees `offline`/`online` events) and a relay
between the browser and the app that is switched off, so the service worker cannot reach the
server either (see network.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e import phone as on_phone
from tests.e2e.conftest import LiveServer
from tests.e2e.media import write_label_video
from tests.e2e.network import SwitchableNetwork
from tests.waiting import wait_until

# ---- tests ----------------------------------------------------------------------------------


def test_online_install_reaches_the_platform(
    live_server: LiveServer,
    site_group: str,
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
) -> None:
    (tuid,) = live_server.emulator.state.add_devices(count=1)
    _, page = visit()

    on_phone.open_device(page, tuid)
    expect(page.locator("[data-testid=device-source]")).to_contain_text("From the platform")
    on_phone.install_from_card(page)

    page.goto(network.url + "/#/queue")
    expect(page.locator("[data-testid=today-list] [data-state=synced]")).to_have_count(
        1, timeout=30_000
    )
    on_phone.expect_waiting(page, 0)
    [op] = live_server.operations()
    assert (op.kind, op.tuid, op.args, op.state) == (
        "install",
        tuid,
        {"group_id": site_group},
        "synced",
    )
    assert len(live_server.installed_records(tuid)) == 1
    assert tuid in live_server.emulator.state.group_things(site_group)["tuids"]


def test_twenty_labels_offline_survive_reload_and_reopen_then_sync_exactly_once(
    live_server: LiveServer,
    open_phone: Callable[..., BrowserContext],
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
    tmp_path: Path,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=20)
    camera = write_label_video(tmp_path / "labels.y4m", on_phone.label_texts(tuids))

    phone, page = visit(camera)

    # No network from here on: the app must start, scan and queue on its own.
    on_phone.go_offline(phone, network)
    page.reload()
    expect(page.locator("#scan-title")).to_be_visible()
    expect(page.locator(".conn-off")).to_be_visible()
    page.check("[data-testid=batch-mode]")
    page.click("[data-testid=start-camera]")
    wait_until(lambda: on_phone.waiting(page) >= 6, 60, "the first labels to be queued")

    page.reload()  # still offline: the queue is in IndexedDB, the shell in the precache
    expect(page.locator("#scan-title")).to_be_visible()
    assert on_phone.waiting(page) >= 6
    # The camera comes back on by itself, and the batch list is still there.
    expect(page.locator("[data-testid=start-camera]")).to_have_count(0)
    assert page.locator("[data-testid=batch-item]").count() >= 6
    wait_until(lambda: on_phone.waiting(page) == 20, 120, "all 20 labels to be queued")
    # The video keeps looping over the same labels; none is queued twice.
    page.wait_for_timeout(3_000)
    assert on_phone.waiting(page) == 20
    assert live_server.operations() == []
    phone.close()

    # The phone is switched off and on again, still without network.
    phone = open_phone("phone", camera)
    on_phone.go_offline(phone, network)
    page = on_phone.first_page(phone)
    page.goto(network.url + "/")
    on_phone.expect_waiting(page, 20)
    page.goto(network.url + "/#/queue")
    expect(page.locator("[data-testid=waiting-list] [data-testid=op]")).to_have_count(20)

    expect(page.locator(".conn-off")).to_be_visible()
    assert live_server.operations() == []
    on_phone.go_online(phone, network)
    on_phone.expect_waiting(page, 0, timeout=30_000)

    def all_synced() -> bool:
        ops = live_server.operations()
        return len(ops) == 20 and all(op.state == "synced" for op in ops)

    wait_until(all_synced, 60, "20 operations synced on the platform")
    ops = live_server.operations()
    assert sorted(op.tuid for op in ops) == sorted(tuids)
    assert len({op.op_id for op in ops}) == 20
    assert {op.kind for op in ops} == {"install"}
    for tuid in tuids:
        assert len(live_server.installed_records(tuid)) == 1, tuid
    try:
        expect(page.locator("[data-testid=today-list] [data-state=synced]")).to_have_count(
            on_phone.made_today(page, ops), timeout=30_000
        )
    except AssertionError as failure:
        # What the phone believes, so that a failure on a loaded CI machine can be read.
        chips = page.locator("[data-testid=today-list] [data-state]")
        states = [chips.nth(i).get_attribute("data-state") for i in range(chips.count())]
        status = page.locator("[aria-labelledby=queue-title] [role=status]").all_inner_texts()
        screen = page.locator("h1").all_inner_texts()
        raise AssertionError(
            f"phone shows {states}; sync line {status}; at {page.url}, headings {screen}"
        ) from failure


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
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=3)
    phone, page = visit()

    on_phone.install_offline(phone, page, network, tuids)

    # The session ends while the phone is away: its cookies are gone, or an admin signed the
    # technician out everywhere (the phone still holds cookies the server no longer accepts).
    if ended_by == "cookies_lost":
        phone.clear_cookies()
    else:
        end_every_sign_in(live_server, technician[0])
    on_phone.go_online(phone, network)
    expect(page.locator("[data-testid=session-expired]")).to_be_visible(timeout=30_000)
    assert on_phone.waiting(page) == 3
    assert live_server.operations() == []

    page.click("[data-testid=session-expired] button")
    expect(page.locator("#password")).to_be_visible()
    expect(page.locator("#username")).to_have_value(technician[0])
    page.fill("#password", technician[1])
    page.click("button[type=submit]")

    on_phone.expect_waiting(page, 0, timeout=30_000)
    wait_until(lambda: len(live_server.operations()) == 3, 30, "3 operations on the server")
    assert sorted(op.tuid for op in live_server.operations()) == sorted(tuids)
