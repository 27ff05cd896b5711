"""The built PWA loads from the Flask app and the service worker takes control."""

from __future__ import annotations

from typing import Any


def test_app_shell_loads_and_registers_a_service_worker(live_server: Any, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + "/")
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == live_server.url + "/"
    assert page.evaluate("document.title")
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())"
    )
    assert manifest["icons"] and manifest["start_url"]
    assert errors == []
    context.close()
