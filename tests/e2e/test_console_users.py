"""The console's Users section (admins): "sign out everywhere" ends a technician's sign-ins at
once, the setting that lets technicians create groups, and a supervisor does not get the
section."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}


def _account(live: LiveServer, username: str, password: str, role: str) -> None:
    from app.services.accounts import create_user

    with live.app.app_context():
        create_user(username, password, role, display_name=username.title())


def _sign_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(url + "/console.html")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_admin_signs_a_technician_out_everywhere(
    live_server: LiveServer, browser: Any, technician: tuple[str, str]
) -> None:
    _account(live_server, "aila", "administering 2026", "admin")
    phones = [live_server.app.test_client() for _ in range(2)]
    for phone in phones:
        login = {"username": technician[0], "password": technician[1]}
        assert phone.post("/api/auth/login", json=login).status_code == 200

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in(page, live_server.url, "aila", "administering 2026")
    page.click("[data-testid=tab-users]")
    row = page.locator(f"[data-testid=user-{technician[0]}]")
    expect(row.locator("[data-testid=sign-ins]")).to_have_text("2")

    row.locator("[data-testid=sign-out-everywhere]").click()
    page.locator("dialog [data-testid=confirm]").click()
    expect(page.get_by_text("was signed out on 2 devices")).to_be_visible()
    expect(row.locator("[data-testid=sign-ins]")).to_have_text("0")
    for phone in phones:
        assert phone.get("/api/auth/me").status_code == 401
    context.close()


def test_admin_lets_technicians_create_groups_from_the_users_section(
    live_server: LiveServer, browser: Any, technician: tuple[str, str]
) -> None:
    _account(live_server, "aila", "administering 2026", "admin")
    phone = live_server.app.test_client()
    login = {"username": technician[0], "password": technician[1]}
    assert phone.post("/api/auth/login", json=login).status_code == 200
    assert phone.get("/api/groups").json["can_create"] is False

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in(page, live_server.url, "aila", "administering 2026")
    page.click("[data-testid=tab-users]")
    switch = page.locator("[data-testid=technicians-create-groups]")
    expect(switch).not_to_be_checked()
    expect(page.locator("[data-testid=admin-settings]")).to_contain_text("server’s default")
    switch.check()
    expect(page.get_by_text("Technicians can now create deployment groups.")).to_be_visible()
    expect(page.locator("[data-testid=admin-settings]")).to_contain_text("Set by Aila")
    assert phone.get("/api/groups").json["can_create"] is True
    page.reload()
    expect(page.locator("[data-testid=technicians-create-groups]")).to_be_checked()
    context.close()


def test_supervisors_get_no_users_section(live_server: LiveServer, browser: Any) -> None:
    _account(live_server, "sulo", "supervising 2026", "supervisor")
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in(page, live_server.url, "sulo", "supervising 2026")
    expect(page.locator("[data-testid=tab-history]")).to_be_visible()
    expect(page.locator("[data-testid=tab-users]")).to_have_count(0)
    page.goto(live_server.url + "/console.html#/users")
    expect(page.locator("[data-testid=history-table], .c-head h1").first).to_be_visible()
    expect(page.locator("[data-testid=users-table]")).to_have_count(0)
    context.close()


def test_own_password_change_and_sign_out_everywhere_from_the_menu(
    live_server: LiveServer, browser: Any
) -> None:
    _account(live_server, "saimi", "supervising 2026", "supervisor")
    login = {"username": "saimi", "password": "supervising 2026"}
    tablet = live_server.app.test_client()
    assert tablet.post("/api/auth/login", json=login).status_code == 200

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    _sign_in(page, live_server.url, *login.values())
    menu = page.locator("details.c-menu")

    menu.locator("summary").click()
    page.click("[data-testid=change-password]")
    dialog = page.locator("dialog")
    dialog.locator("[data-testid=current-password]").fill("not my password")
    dialog.locator("[data-testid=new-password]").fill("a new long password")
    dialog.locator("[data-testid=repeat-password]").fill("a new long password")
    dialog.locator("[data-testid=confirm]").click()
    expect(dialog.get_by_text("The current password is wrong.")).to_be_visible()
    dialog.locator("[data-testid=current-password]").fill("supervising 2026")
    dialog.locator("[data-testid=confirm]").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()
    assert tablet.get("/api/auth/me").status_code == 401  # the other device is signed out

    page.click("[data-testid=tab-inbox]")  # this page goes on, with its new CSRF token
    expect(page.locator("main h1")).to_have_text("Sync failures")
    phone = live_server.app.test_client()
    new_login = {"username": "saimi", "password": "a new long password"}
    assert phone.post("/api/auth/login", json=new_login).status_code == 200

    if not menu.evaluate("menu => menu.open"):
        menu.locator("summary").click()
    page.click("[data-testid=sign-out-everywhere-self]")
    page.locator("dialog [data-testid=confirm]").click()
    expect(page.locator("#password")).to_be_visible()
    assert phone.get("/api/auth/me").status_code == 401
    context.close()
