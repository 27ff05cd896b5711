"""Server-side sessions (issue #13 row 1): a copied cookie stops working once its sign-in ends.

Each test keeps the cookies a browser held, ends the sign-in, and replays them from a client
that has nothing else: the session cookie (with its CSRF token), or the remember cookie alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.conftest import PASSWORD, ApiClient

REMEMBER = "remember_token"


def _cookies(client: FlaskClient) -> dict[str, str]:
    return {
        name: cookie.value
        for name in ("session", REMEMBER)
        if (cookie := client.get_cookie(name)) is not None
    }


def _replay(app: Flask, cookies: dict[str, str], csrf_token: str | None = None) -> ApiClient:
    """A new client holding only these cookies (a stolen copy, or a restarted phone)."""
    api = ApiClient(app.test_client())
    for name, value in cookies.items():
        api.client.set_cookie(name, value)
    api.csrf_token = csrf_token
    return api


def _operation() -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "kind": "set_status",
        "tuid": "TSPR04EZU31901021",
        "args": {"status": "installed"},
        "device_time": datetime.now(UTC).isoformat(),
    }


def _write(api: ApiClient) -> int:
    return api.post("/api/operations", json={"operations": [_operation()]}).status_code


def _signed_in(make_user: Any, app: Flask, name: str, role: str = "technician") -> ApiClient:
    make_user(name, role)
    api = ApiClient(app.test_client())
    assert api.login(name, PASSWORD).status_code == 200
    return api


def _assert_ended(app: Flask, cookies: dict[str, str], csrf_token: str | None) -> None:
    with_session = _replay(app, cookies, csrf_token)
    assert with_session.get("/api/auth/me").status_code == 401
    assert _write(with_session) == 401
    remember_alone = _replay(app, {REMEMBER: cookies[REMEMBER]})
    me = remember_alone.get("/api/auth/me")
    assert me.status_code == 401 and me.json["error"]["code"] == "unauthenticated"
    assert _write(remember_alone) == 401


def test_copied_cookies_work_until_logout_and_never_after(app: Flask, make_user: Any) -> None:
    api = _signed_in(make_user, app, "tiina")
    cookies, token = _cookies(api.client), api.csrf_token
    assert set(cookies) == {"session", REMEMBER}

    # Before sign-out the copies work: the replay below is a real reproduction.
    assert _write(_replay(app, cookies, token)) == 200
    assert _replay(app, {REMEMBER: cookies[REMEMBER]}).get("/api/auth/me").status_code == 200

    assert api.post("/api/auth/logout").status_code == 204
    _assert_ended(app, cookies, token)


@pytest.fixture
def other_worker(app: Flask, app_config: dict[str, Any]) -> Iterator[Flask]:
    """A second app, as in another gunicorn worker: its own memory, only the database shared."""
    from app import create_app
    from app.database import db

    worker = create_app(app_config)
    yield worker
    with worker.app_context():
        db.engine.dispose()


def test_logout_seen_at_once_by_another_worker_process(
    app: Flask, other_worker: Flask, make_user: Any
) -> None:
    api = _signed_in(make_user, app, "tapio")
    cookies, token = _cookies(api.client), api.csrf_token
    assert _replay(other_worker, cookies, token).get("/api/auth/me").status_code == 200

    assert api.post("/api/auth/logout").status_code == 204
    _assert_ended(other_worker, cookies, token)


def test_logout_ends_only_that_sign_in(app: Flask, make_user: Any) -> None:
    # The phone on a long offline shift stays signed in when the desk computer signs out.
    desk = _signed_in(make_user, app, "terhi")
    phone = ApiClient(app.test_client())
    assert phone.login("terhi", PASSWORD).status_code == 200
    assert desk.post("/api/auth/logout").status_code == 204
    assert phone.get("/api/auth/me").status_code == 200
    assert _write(phone) == 200


def test_password_change_ends_every_sign_in_but_continues_this_one(
    app: Flask, make_user: Any
) -> None:
    desk = _signed_in(make_user, app, "toni")
    phone = ApiClient(app.test_client())
    assert phone.login("toni", PASSWORD).status_code == 200
    phone_cookies, phone_token = _cookies(phone.client), phone.csrf_token
    desk_cookies, desk_token = _cookies(desk.client), desk.csrf_token

    wrong = desk.post(
        "/api/auth/password",
        json={"current_password": "not it", "new_password": "a brand new password"},
    )
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "wrong_password"
    assert phone.get("/api/auth/me").status_code == 200  # nothing ended

    weak = desk.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "x"})
    assert weak.status_code == 400 and weak.json["error"]["details"]["field"] == "new_password"

    changed = desk.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
    )
    assert changed.status_code == 200
    new_token = changed.json["csrf_token"]
    assert new_token != desk_token
    _assert_ended(app, phone_cookies, phone_token)
    _assert_ended(app, desk_cookies, desk_token)

    desk.csrf_token = new_token  # the desk goes on under its new sign-in
    assert desk.get("/api/auth/me").status_code == 200
    assert _write(desk) == 200
    assert ApiClient(app.test_client()).login("toni", PASSWORD).status_code == 401
    assert ApiClient(app.test_client()).login("toni", "a brand new password").status_code == 200


def test_admin_signs_a_user_out_everywhere(app: Flask, make_user: Any) -> None:
    phone = _signed_in(make_user, app, "taru")
    tablet = ApiClient(app.test_client())
    assert tablet.login("taru", PASSWORD).status_code == 200
    copies = [(_cookies(c.client), c.csrf_token) for c in (phone, tablet)]
    admin = _signed_in(make_user, app, "aino", role="admin")
    supervisor = _signed_in(make_user, app, "saara", role="supervisor")

    users = admin.get("/api/users")
    assert users.status_code == 200
    taru = next(u for u in users.json["items"] if u["username"] == "taru")
    assert taru["sign_ins"] == 2 and taru["role"] == "technician"

    url = f"/api/users/{taru['id']}/sign-out-everywhere"
    assert phone.post(url).status_code == 403
    assert supervisor.post(url).status_code == 403
    assert supervisor.get("/api/users").status_code == 403
    assert phone.get("/api/auth/me").status_code == 200

    ended = admin.post(url)
    assert ended.status_code == 200 and ended.json == {"ended": 2}
    for cookies, token in copies:
        _assert_ended(app, cookies, token)
    assert admin.get("/api/auth/me").status_code == 200  # only taru's sign-ins ended
    assert admin.post("/api/users/999999/sign-out-everywhere").status_code == 404
    # Past the id columns' range: no such user (app.api.requests bounds every <int:...>).
    assert admin.post(f"/api/users/{2**70}/sign-out-everywhere").status_code == 404


def test_user_signs_out_everywhere_from_one_device(app: Flask, make_user: Any) -> None:
    phone = _signed_in(make_user, app, "teemu")
    lost = ApiClient(app.test_client())
    assert lost.login("teemu", PASSWORD).status_code == 200
    lost_cookies, lost_token = _cookies(lost.client), lost.csrf_token

    response = phone.post("/api/auth/sign-out-everywhere")
    assert response.status_code == 200 and response.json == {"ended": 2}
    _assert_ended(app, lost_cookies, lost_token)
    assert phone.get("/api/auth/me").status_code == 401


def test_sign_in_ends_after_its_maximum_age(app: Flask, make_user: Any) -> None:
    from app.database import db
    from app.models.sign_ins import SignIn

    api = _signed_in(make_user, app, "tuomas")
    cookies = _cookies(api.client)
    days = app.config["SESSION_MAX_DAYS"]
    with app.app_context():
        db.session.execute(
            update(SignIn).values(created_at=datetime.now(UTC) - timedelta(days=days - 1))
        )
        db.session.commit()
    assert _replay(app, {REMEMBER: cookies[REMEMBER]}).get("/api/auth/me").status_code == 200
    with app.app_context():
        db.session.execute(
            update(SignIn).values(created_at=datetime.now(UTC) - timedelta(days=days, seconds=1))
        )
        db.session.commit()
    assert api.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize("command", ["sign-out", "set-password"])
def test_users_cli_ends_every_sign_in(app: Flask, make_user: Any, command: str) -> None:
    api = _signed_in(make_user, app, "tellervo")
    cookies, token = _cookies(api.client), api.csrf_token
    args = ["users", command, "tellervo"]
    stdin = None
    if command == "set-password":
        args.append("--password-stdin")
        stdin = "another good password\n"
    result = app.test_cli_runner().invoke(args=args, input=stdin)
    assert result.exit_code == 0, result.output
    assert "1 sign-in(s) ended" in result.output
    _assert_ended(app, cookies, token)

    missing = app.test_cli_runner().invoke(args=["users", "sign-out", "nobody"])
    assert missing.exit_code != 0 and "No user 'nobody'" in missing.output


def test_cookies_from_before_sign_ins_name_nobody(app: Flask, make_user: Any) -> None:
    # Before the upgrade both cookies carried the user id: such a cookie signs nobody in.
    from flask_login.utils import encode_cookie

    user_id = make_user("toivo")
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    old_session = serializer.dumps({"_user_id": str(user_id), "_fresh": True})
    assert _replay(app, {"session": old_session}).get("/api/auth/me").status_code == 401
    with app.test_request_context():
        old_remember = encode_cookie(str(user_id))
    assert _replay(app, {REMEMBER: old_remember}).get("/api/auth/me").status_code == 401
