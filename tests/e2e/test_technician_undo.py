"""The technician's first hour (issue #14 items 1-3) in a real Chromium against the live app:
undo (cancel while queued, undo once sent, linked in the history, also of a device the phone
never looked up), single mode not reopening the card of the label just acted on, and a reload
that keeps the batch list and the camera and calls the technician's own earlier scans "already
done by you", not a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e import phone as on_phone
from tests.e2e.conftest import LiveServer
from tests.e2e.media import write_label_video
from tests.e2e.network import SwitchableNetwork
from tests.factories import platform_statuses
from tests.waiting import wait_until


def test_undo_cancels_a_queued_action_and_undoes_a_sent_one_in_two_taps(
    live_server: LiveServer,
    site_group: str,
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
) -> None:
    sent, kept_home = live_server.emulator.state.add_devices(count=2)
    before = platform_statuses(live_server.emulator, sent)
    phone, page = visit()

    # Online: the install is synced within seconds, so Undo queues the inverse action.
    on_phone.open_device(page, sent)
    on_phone.install_from_card(page)
    wait_until(lambda: [op.state for op in live_server.operations()] == ["synced"], 30, "synced")
    page.goto(network.url + "/#/queue")
    install_item = page.locator("[data-testid=today-list] [data-testid=op]", has_text=sent)
    expect(install_item.locator("[data-state=synced]")).to_be_visible(timeout=30_000)
    install_item.locator("[data-testid=undo]").click()  # tap 1
    page.click("dialog[open] [data-testid=confirm]")  # tap 2
    expect(page.locator("[data-testid=toast]")).to_contain_text("Undo of")

    def undone() -> bool:
        ops = {op.kind: op for op in live_server.operations()}
        return "undo" in ops and ops["undo"].state == "synced"

    wait_until(undone, 30, "the undo synced")
    ops = {op.kind: op for op in live_server.operations()}
    assert ops["undo"].args["undoes"] == ops["install"].op_id
    assert ops["undo"].tuid == sent
    assert platform_statuses(live_server.emulator, sent)[-1] == before[-1]
    assert live_server.emulator.state.group_of(sent) == "unassigned"
    # The history shows the undo as an undo of the install, and the install as undone.
    undo_item = page.locator(
        "[data-testid=today-list] [data-testid=op]", has=page.locator("[data-testid=undo-of]")
    )
    expect(undo_item).to_contain_text("Undoes: Install into " + site_group)
    expect(install_item.locator("[data-testid=undone]")).to_be_visible()
    expect(install_item.locator("[data-testid=undo]")).to_have_count(0)

    # Offline: Undo right after the action cancels it on the phone in one tap; it never leaves.
    page.goto(network.url + "/#/scan")
    on_phone.go_offline(phone, network)
    expect(page.locator(".conn-off")).to_be_visible()
    on_phone.open_device(page, kept_home)
    on_phone.install_from_card(page)
    on_phone.expect_waiting(page, 1)
    page.click("[data-testid=toast-undo]")  # tap 1
    expect(page.locator("[data-testid=toast]")).to_contain_text("Cancelled")
    on_phone.expect_waiting(page, 0)
    on_phone.go_online(phone, network)
    page.goto(network.url + "/#/queue")
    expect(page.locator("[data-testid=today-list] [data-state=cancelled]")).to_have_count(1)
    page.wait_for_timeout(2_000)
    assert kept_home not in {op.tuid for op in live_server.operations()}
    assert live_server.installed_records(kept_home) == []


def test_single_mode_does_not_reopen_the_card_of_the_label_just_installed(
    live_server: LiveServer,
    visit: Callable[..., tuple[BrowserContext, Page]],
    tmp_path: Path,
) -> None:
    (tuid,) = live_server.emulator.state.add_devices(count=1)
    # The label stays in view the whole time (the video loops on it).
    camera = write_label_video(tmp_path / "one.y4m", [tuid], seconds_each=5.0, gap=0.1)
    _, page = visit(camera)
    page.click("[data-testid=start-camera]")
    expect(page.locator("[data-testid=device-tuid]")).to_have_text(tuid, timeout=30_000)
    on_phone.install_from_card(page)
    # Back on the scan screen, the camera is on again with the same label in view.
    expect(page.locator("[data-testid=start-camera]")).to_have_count(0)
    page.wait_for_timeout(3_000)
    expect(page.locator("#scan-title")).to_be_visible()
    expect(page.locator("[data-testid=device-tuid]")).to_have_count(0)
    wait_until(lambda: len(live_server.operations()) == 1, 30, "one operation")
    assert len(live_server.installed_records(tuid)) <= 1


def test_reload_keeps_the_batch_and_camera_and_own_scans_are_done_not_warnings(
    live_server: LiveServer,
    technician: tuple[str, str],
    site_group: str,
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
    tmp_path: Path,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=3)
    camera = write_label_video(tmp_path / "three.y4m", tuids)
    phone, page = visit(camera)
    on_phone.go_offline(phone, network)
    expect(page.locator(".conn-off")).to_be_visible()
    page.check("[data-testid=batch-mode]")
    page.click("[data-testid=start-camera]")
    items = page.locator("[data-testid=batch-item]")
    expect(items).to_have_count(3, timeout=60_000)
    on_phone.expect_waiting(page, 3)

    # A wrong scan is taken out of the batch with one tap; its label coming round again does
    # not put it back.
    wrong = tuids[0]
    page.locator(f"[data-testid=batch-item][data-tuid={wrong}] [data-testid=batch-remove]").click()
    on_phone.expect_waiting(page, 2)
    expect(items).to_have_count(2)
    page.wait_for_timeout(3_000)
    expect(items).to_have_count(2)
    assert on_phone.waiting(page) == 2

    page.reload()
    expect(page.locator("#scan-title")).to_be_visible()
    expect(items).to_have_count(2)  # the batch list survived
    expect(page.locator("[data-testid=start-camera]")).to_have_count(0)  # so did the camera
    # ... and so did the removal: the camera, back on, reads the wrong label again.
    page.wait_for_timeout(3_000)
    expect(items).to_have_count(2)
    assert on_phone.waiting(page) == 2

    # A new list: the technician's own earlier scans come back as done, not as warnings.
    page.get_by_role("button", name="Clear").click()
    expect(page.locator(".batch-already")).to_have_count(2, timeout=60_000)
    expect(page.locator(".batch-already").first).to_contain_text("Already done by you")
    expect(page.locator(".batch-needs-look")).to_have_count(0)
    assert on_phone.waiting(page) >= 2

    on_phone.go_online(phone, network)
    on_phone.expect_waiting(page, 0, timeout=60_000)
    wait_until(
        lambda: (
            all(op.state == "synced" for op in live_server.operations())
            and len(live_server.operations()) >= 2
        ),
        60,
        "synced",
    )
    ops = live_server.operations()
    for tuid in tuids[1:]:
        assert [op.tuid for op in ops].count(tuid) == 1, tuid
        assert len(live_server.installed_records(tuid)) == 1, tuid

    # Its card says so too, rather than only "Installed".
    page.click("button:has-text('Stop camera')")
    on_phone.open_device(page, tuids[1])
    expect(page.locator("[data-testid=done-by-you]")).to_contain_text(
        "Already done by you: Install into " + site_group
    )


def test_undo_of_a_device_scanned_offline_restores_what_the_worker_read_before_writing(
    live_server: LiveServer,
    site_group: str,
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
    tmp_path: Path,
) -> None:
    """Scanned offline in batch mode, the phone never knew what the device was: once synced,
    Undo still puts it back, from what the sync worker read on the platform before installing."""
    (tuid,) = live_server.emulator.state.add_devices(count=1)
    before = platform_statuses(live_server.emulator, tuid)[-1]
    camera = write_label_video(tmp_path / "one.y4m", [tuid])
    phone, page = visit(camera)
    on_phone.go_offline(phone, network)
    expect(page.locator(".conn-off")).to_be_visible()
    page.check("[data-testid=batch-mode]")
    page.click("[data-testid=start-camera]")
    expect(page.locator("[data-testid=batch-item]")).to_have_count(1, timeout=60_000)
    page.click("button:has-text('Stop camera')")
    on_phone.go_online(phone, network)
    wait_until(lambda: [op.state for op in live_server.operations()] == ["synced"], 60, "synced")
    (install,) = live_server.operations()
    assert install.seen_status is None  # the phone did not know

    page.goto(network.url + "/#/queue")
    item = page.locator(
        "[data-testid=today-list] [data-testid=op]",
        has_text=tuid,
        has_not=page.locator("[data-testid=undo-of]"),
    )
    expect(item.locator("[data-state=synced]")).to_be_visible(timeout=30_000)
    item.locator("[data-testid=undo]").click()
    page.click("dialog[open] [data-testid=confirm]")
    expect(page.locator("[data-testid=toast]")).to_contain_text("Undo of")

    def undone() -> bool:
        undos = [op for op in live_server.operations() if op.kind == "undo"]
        return len(undos) == 1 and undos[0].state == "synced"

    wait_until(undone, 60, "the undo of a blind install synced")
    assert platform_statuses(live_server.emulator, tuid)[-1] == before
    assert live_server.emulator.state.group_of(tuid) == "unassigned"
    expect(item.locator("[data-testid=undone]")).to_be_visible()
