"""The CSRF token is rotated at sign-in and sign-out (issue #13 row 8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from tests.conftest import PASSWORD, ApiClient


def _write(api: ApiClient, token: str | None) -> Any:
    operation = {
        "op_id": str(uuid.uuid4()),
        "kind": "set_status",
        "tuid": "TSPR04EZU31901021",
        "args": {"status": "installed"},
        "device_time": datetime.now(UTC).isoformat(),
    }
    headers = {"X-CSRFToken": token} if token else {}
    return api.client.post("/api/operations", json={"operations": [operation]}, headers=headers)


def test_a_new_sign_in_gets_a_new_token_and_the_old_one_is_refused(
    app: Flask, make_user: Any
) -> None:
    make_user("tyyne")
    api = ApiClient(app.test_client())
    first = api.login("tyyne", PASSWORD).json["csrf_token"]
    assert _write(api, first).status_code == 200
    assert api.get("/api/auth/me").json["csrf_token"]  # /me hands out the same secret, re-signed

    second = api.login("tyyne", PASSWORD).json["csrf_token"]
    assert second != first
    refused = _write(api, first)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    assert _write(api, second).status_code == 200
    assert _write(api, api.get("/api/auth/me").json["csrf_token"]).status_code == 200


def test_sign_out_drops_the_token_and_the_next_sign_in_gets_another(
    app: Flask, make_user: Any
) -> None:
    make_user("topi")
    api = ApiClient(app.test_client())
    before = api.login("topi", PASSWORD).json["csrf_token"]
    assert api.post("/api/auth/logout").status_code == 204
    assert _write(api, before).status_code == 401  # signed out: refused before any CSRF check

    after = api.login("topi", PASSWORD).json["csrf_token"]
    assert after != before
    refused = _write(api, before)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf_failed"
    assert _write(api, after).status_code == 200


def test_signing_in_again_ends_the_sign_in_the_browser_had(app: Flask, make_user: Any) -> None:
    make_user("tauno")
    api = ApiClient(app.test_client())
    api.login("tauno", PASSWORD)
    old_cookie = api.client.get_cookie("session")
    assert old_cookie is not None
    api.login("tauno", PASSWORD)
    copy = app.test_client()
    copy.set_cookie("session", old_cookie.value)
    assert copy.get("/api/auth/me").status_code == 401
    assert api.get("/api/auth/me").status_code == 200
