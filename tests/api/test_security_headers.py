"""Security headers on every response, Secure cookies and the trusted proxy (issue #13 row 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, ApiClient

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A tiny stand-in for the built PWA, so its pages are served too."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>x</title>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    return {**app_config, "PWA_DIST": str(dist)}


def test_every_kind_of_response_carries_the_headers(login: Any, app: Flask) -> None:
    tech = login("technician")
    anonymous = app.test_client()
    responses = {
        "health": anonymous.get("/api/health"),
        "401": anonymous.get("/api/auth/me"),
        "404": anonymous.get("/api/nothing-here"),
        "405": anonymous.delete("/api/health"),
        "openapi": anonymous.get("/api/openapi.json"),
        "page": anonymous.get("/"),
        "spa fallback": anonymous.get("/scan/somewhere"),
        "asset": anonymous.get("/assets/app.js"),
        "api json": tech.get("/api/auth/me"),
        "403": tech.get("/api/users"),
        "csrf": tech.client.post("/api/operations", json={"operations": []}),
    }
    for name, response in responses.items():
        for header, value in EXPECTED.items():
            assert response.headers.get(header) == value, (name, header)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers, name  # plain http
        response.close()  # the files served stay open until then


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    for name in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in directives[name]
        assert "'unsafe-eval'" not in directives[name]
    assert directives["object-src"] == "'none'"


def _login_cookies(app: Flask, username: str) -> str:
    from app.services.accounts import create_user

    with app.app_context():
        create_user(username, PASSWORD, "technician")
    response = app.test_client().post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"session", "remember_token"}
    return " | ".join(cookies)


def test_cookies_are_secure_only_when_the_setting_says_so(
    app: Flask, app_config: dict[str, Any]
) -> None:
    from app import create_app
    from app.database import db

    assert "Secure" not in _login_cookies(app, "plain")
    https_app = create_app({**app_config, "SECURE_COOKIES": True})
    assert _login_cookies(https_app, "secure").count("; Secure") == 2
    with https_app.app_context():
        db.engine.dispose()


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(app: Flask) -> None:
    response = app.test_client().get(
        "/api/health", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Strict-Transport-Security" not in response.headers


def test_a_trusted_proxy_says_the_request_came_over_https(
    app_config: dict[str, Any], make_user: Any
) -> None:
    from app import create_app

    proxied = create_app({**app_config, "TRUSTED_PROXIES": 1})
    client = proxied.test_client()
    https = client.get("/api/health", headers={"X-Forwarded-Proto": "https"})
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/api/health", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
    with proxied.app_context():
        from app.database import db

        db.engine.dispose()


def test_login_limit_counts_the_client_a_trusted_proxy_names(
    app_config: dict[str, Any], app: Flask
) -> None:
    from app import create_app
    from app.database import db

    proxied = create_app({**app_config, "TRUSTED_PROXIES": 1, "LOGIN_RATE_LIMIT": "2 per minute"})
    client = ApiClient(proxied.test_client())

    def attempt(ip: str) -> int:
        return client.client.post(
            "/api/auth/login",
            json={"username": "nobody", "password": "wrong"},
            headers={"X-Forwarded-For": ip},
        ).status_code

    assert [attempt("198.51.100.7") for _ in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.8") == 401  # another client behind the same proxy
    with proxied.app_context():
        db.engine.dispose()
