"""A new version deployed mid-shift, with an IndexedDB schema bump, while actions wait offline.

The app is served from a folder the test swaps for a second build of the same code whose
IndexedDB version is one higher (FIELDHAND_DB_TEST_BUMP=1, no schema change). The phone learns
of the deploy when its connection returns, says so in words, waits for a safe moment (here the
queue cannot be sent, so until the technician taps Reload), upgrades the database with the queue
in it, and a second tab left on the old version reloads itself instead of failing with a
VersionError. Every queued action reaches the server exactly once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.e2e import phone as on_phone
from tests.e2e.conftest import PWA_DIST, ROOT, LiveServer
from tests.e2e.network import SwitchableNetwork
from tests.waiting import wait_until

DB_VERSION_JS = """() => new Promise((resolve) => {
  const request = indexedDB.open('fieldhand');
  request.onsuccess = () => {
    const v = request.result.version;
    request.result.close();
    resolve(v);
  };
})"""


@pytest.fixture(scope="session")
def newer_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same app built again as a newer version whose IndexedDB version is one higher."""
    out = tmp_path_factory.mktemp("pwa-next") / "dist"
    env = dict(os.environ, FIELDHAND_DB_TEST_BUMP="1", FIELDHAND_BUILD_ID="e2e-next")
    subprocess.run(
        ["npx", "vite", "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=ROOT / "pwa",
        env=env,
        check=True,
        timeout=600,
    )
    return out


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """The folder the app serves the PWA from: the current build, until the test deploys."""
    folder = tmp_path / "served"
    shutil.copytree(PWA_DIST, folder)
    return folder


@pytest.fixture
def app_config(app_config: dict[str, Any], served: Path) -> dict[str, Any]:
    return dict(app_config, E2E_PWA_DIST=str(served))


def deploy(build: Path, served: Path) -> None:
    """Put the new version where the server serves it from (as a deploy does)."""
    for entry in served.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(build, served, dirs_exist_ok=True)


def test_update_mid_shift_keeps_the_offline_queue_and_reloads_the_old_tab(
    live_server: LiveServer,
    visit: Callable[..., tuple[BrowserContext, Page]],
    network: SwitchableNetwork,
    newer_build: Path,
    served: Path,
) -> None:
    tuids = live_server.emulator.state.add_devices(count=3)
    phone, page = visit()
    assert page.evaluate(DB_VERSION_JS) == 1
    other_tab = phone.new_page()
    other_tab.goto(network.url + "/#/queue")
    expect(other_tab.locator("#queue-title")).to_be_visible()

    on_phone.install_offline(phone, page, network, tuids)

    deploy(newer_build, served)
    # The connection returns, but the server refuses to take operations for now: the queue
    # cannot be sent, so the update must not take over by itself.
    refused: list[str] = []

    def refuse(route: Route) -> None:
        refused.append(route.request.method)
        route.abort()

    phone.route("**/api/operations**", refuse)
    on_phone.go_online(phone, network)
    banner = page.locator("[data-testid=update-ready]")
    expect(banner).to_be_visible(timeout=60_000)
    expect(banner).to_contain_text("3 waiting actions are sent")
    on_phone.expect_waiting(page, 3)
    assert page.evaluate(DB_VERSION_JS) == 1  # still the old version: nothing was applied

    banner.locator("button").click()  # the technician chooses to reload now
    expect(page.locator("[data-testid=updated]")).to_contain_text(
        "updated to a new version", timeout=30_000
    )
    assert page.evaluate(DB_VERSION_JS) == 2
    on_phone.expect_waiting(page, 3)  # the queue went through the schema upgrade intact

    # The tab left on the old version reloaded itself: no raw VersionError, the same queue.
    expect(other_tab.locator("[data-testid=waiting-list] [data-testid=op]")).to_have_count(
        3, timeout=30_000
    )
    expect(other_tab.locator("body")).not_to_contain_text("requested version")
    assert refused, "the sync was tried while the server refused"
    assert live_server.operations() == []

    phone.unroute("**/api/operations**")
    page.goto(network.url + "/#/queue")
    page.click("[data-testid=send-now]")
    on_phone.expect_waiting(page, 0, timeout=60_000)
    on_phone.expect_waiting(other_tab, 0, timeout=30_000)

    def all_synced() -> bool:
        ops = live_server.operations()
        return len(ops) == 3 and all(op.state == "synced" for op in ops)

    wait_until(all_synced, 60, "3 operations synced")
    assert sorted(op.tuid for op in live_server.operations()) == sorted(tuids)
    for tuid in tuids:
        assert len(live_server.installed_records(tuid)) == 1, tuid
    expect(other_tab.locator("[data-testid=offline-strip]")).to_have_count(0)
