"""The supervisor console (console.html) in a real Chromium against the live app: a bulk retire
from an uploaded CSV from dry run to results CSV, a long dry run stopped half-way, the history's
filters and CSV link, the sync-failure inbox's discard and edit-and-retry, actions still
retrying, and the page a technician gets instead.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.conftest import LiveServer
from tests.waiting import wait_until

SUPERVISOR = ("sanna", "supervising 2026")
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}
UNKNOWN = ["TSPR04ZZZ00000001", "TSPD02ZZZ00000002", "TSGW05ZZZ00000003"]


# ---- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def supervisor(live_server: LiveServer) -> tuple[str, str]:
    """A supervisor account on the live server: (username, password)."""
    from app.services.accounts import create_user

    with live_server.app.app_context():
        create_user(*SUPERVISOR, "supervisor", display_name="Sanna Saarinen")
    return SUPERVISOR


@pytest.fixture
def console(browser: Any, live_server: LiveServer) -> Iterator[Page]:
    """A desktop browser page, not yet signed in."""
    context = browser.new_context(accept_downloads=True, **DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, url: str, user: tuple[str, str], section: str = "history") -> None:
    """Sign in on a section's address (the console itself opens on the overview)."""
    page.goto(url + f"/console.html#/{section}")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("button[type=submit]")


class Phone:
    """A technician's phone sending operations straight to the API (the PWA's wire format)."""

    def __init__(self, live: LiveServer, user: tuple[str, str]) -> None:
        self.client = live.app.test_client()
        response = self.client.post(
            "/api/auth/login", json={"username": user[0], "password": user[1]}
        )
        body: Any = response.json
        assert response.status_code == 200, body
        self.csrf: str = body["csrf_token"]

    def send(self, kind: str, tuid: str, **args: Any) -> str:
        op_id = str(uuid.uuid4())
        when = datetime.now(UTC) - timedelta(minutes=5)
        operation = {
            "op_id": op_id,
            "kind": kind,
            "tuid": tuid,
            "args": args,
            "device_time": when.isoformat(),
            "seen": {},
        }
        response = self.client.post(
            "/api/operations",
            json={"operations": [operation]},
            headers={"X-CSRFToken": self.csrf},
        )
        body: Any = response.json
        assert body["results"][0]["result"] == "accepted", body
        return op_id

    def state(self, op_id: str) -> str | None:
        body: Any = self.client.get(f"/api/operations?ids={op_id}").json
        items = body["items"]
        return str(items[0]["state"]) if items else None


def three_synced_installs(live: LiveServer, technician: tuple[str, str]) -> list[str]:
    """Three devices a technician installed into prfi00e2esite, synced; their TUIDs."""
    from app.platform.provider import current_platform
    from app.services.groups import create_group

    with live.app.app_context():
        create_group(current_platform(), "prfi00e2esite", "E2E site")
    tuids = live.emulator.state.add_devices(count=3)
    phone = Phone(live, technician)
    ops = [phone.send("install", tuid, group_id="prfi00e2esite") for tuid in tuids]
    wait_until(lambda: all(phone.state(op) == "synced" for op in ops), what="installs synced")
    return tuids


def statuses(live: LiveServer, tuid: str) -> list[str]:
    return [r["installation_status"] for r in live.emulator.state.installation_history(tuid)]


# ---- tests ----------------------------------------------------------------------------------


def test_bulk_retire_from_an_uploaded_csv(
    live_server: LiveServer, supervisor: tuple[str, str], console: Page, tmp_path: Path
) -> None:
    known = live_server.emulator.state.add_devices(count=195)
    assert not set(UNKNOWN) & set(known)
    before = {tuid: statuses(live_server, tuid) for tuid in known}
    lines = [*known[:100], known[3], *UNKNOWN, *known[100:], known[150]]  # 200 TUIDs
    upload = tmp_path / "retire.csv"
    upload.write_text("tuid\n" + "\n".join(lines) + "\n", encoding="utf-8")
    page = console

    sign_in(page, live_server.url, supervisor)
    expect(page.locator("main h1")).to_have_text("Install history")
    page.click("[data-testid=tab-bulk]")
    page.locator("label", has=page.locator("[data-testid=source-csv]")).click()
    page.set_input_files("[data-testid=csv-file]", str(upload))
    expect(page.locator("#bulk-file-help")).to_contain_text("201 lines")  # with the header
    page.click("[data-testid=preview]")

    # The dry run.
    expect(page.locator("[data-testid=summary]")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-testid=job-state]")).to_have_text("Dry run")
    expect(page.locator("[data-testid=summary-change]")).to_have_text("195")
    expect(page.locator("[data-testid=summary-unknown]")).to_have_text("3")
    expect(page.locator("[data-testid=summary-duplicate]")).to_have_text("2")
    expect(page.locator("[data-testid=summary-invalid]")).to_have_text("0")
    page.locator("label", has=page.locator("[data-testid=verdict-unknown]")).click()
    rows = page.locator("[data-testid=items-table] tbody tr")
    expect(rows).to_have_count(3)
    for tuid in UNKNOWN:
        expect(page.locator("[data-testid=items-table]")).to_contain_text(tuid)

    # Confirming needs the exact count.
    page.fill("[data-testid=confirm-count]", "194")
    page.click("[data-testid=confirm-job]")
    expect(page.get_by_role("alert")).to_contain_text("Type exactly 195")
    assert all(statuses(live_server, t) == before[t] for t in known[:5])  # nothing sent yet
    page.fill("[data-testid=confirm-count]", "195")
    page.click("[data-testid=confirm-job]")

    # Progress to the end.
    expect(page.locator("[data-testid=progress-text]")).to_contain_text(
        "195 of 195 done (100 %)", timeout=90_000
    )
    expect(page.locator("[data-testid=job-state]")).to_have_text("Done")
    expect(page.locator("[data-testid=by-state]")).to_contain_text("195 synced")
    expect(page.locator("[data-testid=results-table] tbody tr")).to_have_count(50)  # first page

    # The results CSV: one row per input line.
    with page.expect_download() as download:
        page.click("[data-testid=results-csv]")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    results = list(csv.DictReader(io.StringIO(text)))
    assert len(results) == 200
    assert [r["tuid"] for r in results] == lines
    assert Counter(r["preview"] for r in results) == {"change": 195, "unknown": 3, "duplicate": 2}
    assert Counter((r["preview"], r["result"]) for r in results) == {
        ("change", "done"): 195,
        ("unknown", "not_done"): 3,
        ("duplicate", "skipped"): 2,
    }
    assert {r["operation_state"] for r in results if r["preview"] == "change"} == {"synced"}

    # The platform: every distinct known device retired, with exactly one new history entry.
    for tuid in known:
        assert statuses(live_server, tuid) == [*before[tuid], "retired"], tuid

    # The job is in the list of past jobs.
    page.click("[data-testid=tab-bulk]")
    expect(page.locator("[data-testid=jobs-table] tbody tr")).to_have_count(1)
    expect(page.locator("[data-testid=jobs-table]")).to_contain_text("retire.csv")


def test_a_long_dry_run_shows_its_progress_and_can_be_stopped(
    live_server: LiveServer, supervisor: tuple[str, str], console: Page
) -> None:
    tuids = live_server.emulator.state.add_devices(count=200)
    live_server.emulator.state.update_settings(latency_ms=400)  # ~5 s for 200 at 16 at a time
    page = console

    sign_in(page, live_server.url, supervisor)
    page.click("[data-testid=tab-bulk]")
    page.fill("[data-testid=paste]", "\n".join(tuids))
    page.click("[data-testid=preview]")

    checking = page.locator("[data-testid=checking]")
    expect(checking).to_contain_text("of 200 read")
    expect(page.locator("[data-testid=job-state]")).to_have_text("Checking")
    checking.locator("[data-testid=cancel-job]").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Stop this dry run?")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.get_by_role("status").filter(has_text="Dry run stopped")).to_be_visible()
    expect(page.locator("[data-testid=job-state]")).to_have_text("Cancelled")

    # The reads stop too: the 16 under way finish, and the dry run sees the cancel within a
    # quarter of a second (40 reads a second), not after 200.
    requests = live_server.emulator.state.stats()["requests"]
    time.sleep(2.5)
    assert live_server.emulator.state.stats()["requests"] - requests <= 40
    assert all(statuses(live_server, t) == ["new"] for t in tuids[:10])


def test_history_filters_and_csv_link(
    live_server: LiveServer,
    supervisor: tuple[str, str],
    technician: tuple[str, str],
    console: Page,
) -> None:
    tuids = three_synced_installs(live_server, technician)
    page = console

    sign_in(page, live_server.url, supervisor)
    expect(page.locator("[data-testid=history-total]")).to_have_text("3 operations")
    expect(page.locator("[data-testid=history-table]")).to_contain_text("Terttu Tekninen")

    page.fill("[data-testid=filter-tuid]", tuids[1][4:12])
    page.click("[data-testid=filter-apply]")
    expect(page.locator("[data-testid=history-total]")).to_have_text("1 operation")
    row = page.locator("[data-testid=history-table] tbody tr")
    expect(row).to_contain_text(tuids[1])
    expect(row).to_contain_text("Install into prfi00e2esite")
    expect(row).to_contain_text("Synced")
    assert f"tuid={tuids[1][4:12]}" in page.url  # the filtered view can be bookmarked

    href = page.get_attribute("[data-testid=export-csv]", "href")
    assert href is not None
    query = parse_qs(urlparse(href).query)
    assert query["tuid"] == [tuids[1][4:12]]
    exported = page.request.get(live_server.url + href)
    assert exported.status == 200
    rows = list(csv.DictReader(io.StringIO(exported.text().lstrip("\ufeff"))))
    assert [(r["tuid"], r["action"], r["state"]) for r in rows] == [(tuids[1], "install", "synced")]

    # Another filter on top, then the timeline of the device in the side panel.
    page.select_option("[data-testid=filter-state]", "failed")
    expect(page.locator("main")).to_contain_text("No operations match these filters.")
    page.get_by_role("button", name="Clear filters").first.click()
    expect(page.locator("[data-testid=history-total]")).to_have_text("3 operations")
    page.locator(f"[data-testid=open-timeline]:text('{tuids[0]}')").click()
    timeline = page.locator("[data-testid=timeline]")
    expect(timeline).to_contain_text("Install into prfi00e2esite")
    expect(timeline).to_contain_text("by Terttu Tekninen")
    page.keyboard.press("Escape")
    expect(timeline).to_have_count(0)


def test_inbox_discard_and_edit_and_retry(
    live_server: LiveServer,
    supervisor: tuple[str, str],
    technician: tuple[str, str],
    console: Page,
) -> None:
    from app.database import db
    from app.models.audit import AuditEvent
    from app.platform.provider import current_platform
    from app.services.groups import create_group

    with live_server.app.app_context():
        create_group(current_platform(), "prfi00rightsite", "The right site")
    wrong, typo = live_server.emulator.state.add_devices(count=2)
    phone = Phone(live_server, technician)
    discard_op = phone.send("install", wrong, group_id="prfi00closedsite")
    edit_op = phone.send("install", typo, group_id="prfi00rihgtsite")
    wait_until(lambda: phone.state(discard_op) == phone.state(edit_op) == "failed", what="failures")
    page = console

    sign_in(page, live_server.url, supervisor)
    expect(page.locator("[data-testid=inbox-count]")).to_contain_text("2")
    page.click("[data-testid=tab-inbox]")
    expect(page.locator("[data-testid=inbox-total]")).to_have_text("Failed: 2 · Conflicts: 0")
    failed = page.locator(f"[data-testid=inbox-item][data-op-id='{discard_op}']")
    expect(failed.locator("[data-testid=platform-message]")).to_contain_text("not found")

    # Discard needs a reason.
    failed.locator("[data-testid=discard]").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Discard this action?")
    dialog.locator("[data-testid=confirm]").click()
    expect(dialog.get_by_role("alert")).to_have_text("Write a reason.")
    dialog.locator("[data-testid=reason]").fill("Site closed; device went back to stock.")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Discarded")).to_contain_text(wrong)
    expect(page.locator("[data-testid=inbox-item]")).to_have_count(1)
    expect(page.locator("[data-testid=inbox-count]")).to_contain_text("1")

    # Edit and retry: a bad group id is refused before sending, the right one goes through.
    page.locator("[data-testid=inbox-item] [data-testid=edit]").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("group_id = prfi00rihgtsite")
    dialog.locator("[data-testid=edit-group]").fill("Right Site!")
    dialog.locator("[data-testid=confirm]").click()
    expect(dialog.get_by_role("alert")).to_contain_text("lowercase letters and digits")
    dialog.locator("[data-testid=edit-group]").fill("prfi00rightsite")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No sync failures.")
    expect(page.locator("[data-testid=inbox-count]")).to_have_count(0)
    wait_until(lambda: phone.state(edit_op) == "synced", what="edited install synced")
    assert live_server.emulator.state.group_of(typo) == "prfi00rightsite"
    assert phone.state(discard_op) == "discarded"

    with live_server.app.app_context():
        reasons = [e.reason for e in db.session.scalars(select(AuditEvent))]
    assert "Site closed; device went back to stock." in reasons


def test_inbox_shows_actions_still_retrying_and_tries_one_now(
    live_server: LiveServer,
    supervisor: tuple[str, str],
    technician: tuple[str, str],
    console: Page,
) -> None:
    from sqlalchemy import update

    from app.database import db
    from app.models.operations import OutboxStep

    (tuid,) = live_server.emulator.state.add_devices(count=1)
    live_server.emulator.state.update_settings(fail_next=[503] * 10_000)  # the platform is down
    phone = Phone(live_server, technician)
    op_id = phone.send("set_status", tuid, status="quarantine")

    def parked() -> bool:
        """Put the step's next try a month away once it has failed 3 times (not while sent)."""
        with live_server.app.app_context():
            moved = db.session.execute(
                update(OutboxStep)
                .where(OutboxStep.state == "pending", OutboxStep.attempts >= 3)
                .values(available_at=datetime.now(UTC) + timedelta(days=30))
            ).rowcount
            db.session.commit()
            db.session.remove()
        return moved == 1

    wait_until(parked, what="three failed tries")
    live_server.emulator.state.update_settings(fail_next=[])  # back up; the worker would wait
    page = console

    sign_in(page, live_server.url, supervisor)
    page.click("[data-testid=tab-inbox]")
    expect(page.locator("main")).to_contain_text("No sync failures.")
    page.click("[data-testid=show-retrying]")
    card = page.locator(f"[data-testid=inbox-item][data-op-id='{op_id}']")
    expect(card).to_contain_text("Still retrying")
    expect(card.locator("[data-testid=platform-message]")).to_contain_text("Service Unavailable")
    expect(card.locator("[data-testid=retrying-status]")).to_contain_text("Tried")
    expect(card.locator("[data-testid=discard]")).to_have_count(0)  # nothing to decide

    card.locator("[data-testid=retry-now]").click()
    expect(page.get_by_role("status").filter(has_text="Trying now")).to_contain_text(tuid)
    wait_until(lambda: phone.state(op_id) == "synced", what="the retried action synced")
    assert statuses(live_server, tuid) == ["new", "quarantine"]


def test_technicians_get_a_plain_page_even_with_the_app_installed(
    live_server: LiveServer, technician: tuple[str, str], console: Page
) -> None:
    page = console
    # The technician app's service worker answers navigations; it must still give the console.
    page.goto(live_server.url + "/")
    # Polled from here: wait_for_function evaluates strings in the page, which the CSP forbids.
    wait_until(
        lambda: page.evaluate("navigator.serviceWorker.controller !== null"),
        20,
        "the service worker to take control",
    )
    sign_in(page, live_server.url, technician)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    expect(page.locator("[data-testid=not-for-role]")).to_have_text(
        "This console is not for your role"
    )
    expect(page.get_by_role("link", name="Open the technician app")).to_have_attribute("href", "/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("main h1")).to_have_text("Sign in to the console")


def test_inbox_lists_repaired_drift_with_its_evidence(
    live_server: LiveServer,
    supervisor: tuple[str, str],
    technician: tuple[str, str],
    console: Page,
) -> None:
    from sqlalchemy import update

    from app.database import db
    from app.models.operations import DRIFT_REPAIRED, Operation

    (tuid,) = live_server.emulator.state.add_devices(count=1)
    phone = Phone(live_server, technician)
    op_id = phone.send("set_status", tuid, status="quarantine")
    wait_until(lambda: phone.state(op_id) == "synced", what="the action synced")
    # What the read-back leaves on an operation it repaired (tests/sync/test_late_writes.py
    # drives the real repair); here only the console's listing of it is under test.
    evidence = (
        "Read-back found status 'installed' where the last action set 'quarantine': one of our "
        "own earlier writes landed late. The last action was applied again."
    )
    with live_server.app.app_context():
        db.session.execute(
            update(Operation)
            .where(Operation.op_id == op_id)
            .values(error_code=DRIFT_REPAIRED, error_message=evidence)
        )
        db.session.commit()
        db.session.remove()

    page = console
    sign_in(page, live_server.url, supervisor)
    page.click("[data-testid=tab-inbox]")
    expect(page.locator("main")).to_contain_text("No sync failures.")
    page.click("[data-testid=show-drift-repaired]")
    card = page.locator(f"[data-testid=inbox-item][data-op-id='{op_id}']")
    expect(card).to_contain_text("Drift repaired")
    expect(card.locator("[data-testid=platform-message]")).to_contain_text("landed late")
    expect(card.locator("[data-testid=drift-repaired-status]")).to_contain_text("Nothing to decide")
    expect(card.locator("[data-testid=discard]")).to_have_count(0)
    expect(card.locator("[data-testid=retry]")).to_have_count(0)


def test_the_console_opens_on_the_fleet_overview(
    live_server: LiveServer, supervisor: tuple[str, str], console: Page
) -> None:
    page = console
    page.goto(live_server.url + "/console.html")
    page.fill("#username", supervisor[0])
    page.fill("#password", supervisor[1])
    page.click("button[type=submit]")
    expect(page.locator("main h1")).to_have_text("Fleet overview")
    expect(page.locator("[data-testid=tab-overview]")).to_have_attribute("aria-current", "page")
    page.click("[data-testid=tab-history]")
    expect(page.locator("main h1")).to_have_text("Install history")


def test_the_overview_reads_on_a_360_px_phone(
    live_server: LiveServer,
    supervisor: tuple[str, str],
    technician: tuple[str, str],
    browser: Any,
) -> None:
    three_synced_installs(live_server, technician)

    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, supervisor, section="overview")
        expect(page.locator("main h1")).to_have_text("Fleet overview")
        expect(page.locator("[data-testid=overview-groups]")).to_contain_text("prfi00e2esite")
        expect(page.locator("[data-testid=overview-technicians]")).to_contain_text("3")
        expect(page.locator(".c-chart svg")).to_have_count(2)  # both charts drew
        # Nothing is wider than the phone: no sideways scrolling, every tile and chart in view.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        boxes = [
            page.locator(selector).nth(i).bounding_box()
            for selector in (".c-tile", ".c-chart")
            for i in range(page.locator(selector).count())
        ]
        assert boxes and all(b is not None and b["x"] >= 0 for b in boxes)
        assert all(b is not None and b["x"] + b["width"] <= 360 for b in boxes)
        # A number is a link to what it counts.
        page.locator("[data-testid=overview-technicians] a").first.click()
        expect(page.locator("main h1")).to_have_text("Install history")
        expect(page.locator("[data-testid=history-total]")).to_have_text("3 operations")
    finally:
        context.close()
