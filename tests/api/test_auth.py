"""Sign-in, sessions, CSRF and roles."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD, ApiClient


def test_login_me_logout_round_trip(app: Any, make_user: Any) -> None:
    make_user("anna", "technician")
    api = ApiClient(app.test_client())
    assert api.get("/api/auth/me").status_code == 401

    response = api.login("Anna", PASSWORD)
    assert response.status_code == 200
    assert response.json["user"]["role"] == "technician"
    assert response.json["user"]["username"] == "anna"
    assert api.csrf_token

    me = api.get("/api/auth/me")
    assert me.status_code == 200 and me.json["user"]["username"] == "anna"
    assert api.post("/api/auth/logout").status_code == 204
    after = api.get("/api/auth/me")
    assert after.status_code == 401
    assert after.json["error"]["code"] == "unauthenticated"
    assert "kept" in after.json["error"]["message"]


def test_me_optional_says_no_one_without_a_401_for_a_phone_that_asks(
    app: Any, make_user: Any
) -> None:
    make_user("anna", "technician")
    api = ApiClient(app.test_client())
    nobody = api.get("/api/auth/me?optional=true")
    assert nobody.status_code == 200
    assert nobody.json == {"user": None, "csrf_token": None}
    api.login("anna", PASSWORD)
    someone = api.get("/api/auth/me?optional=true")
    assert someone.status_code == 200 and someone.json["user"]["username"] == "anna"
    assert someone.json["csrf_token"]


def test_wrong_password_and_unknown_user_look_the_same(app: Any, make_user: Any) -> None:
    make_user("ben", "technician")
    api = ApiClient(app.test_client())
    wrong = api.login("ben", "not the password")
    unknown = api.login("nobody", "whatever")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["error"] == unknown.json["error"]
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_session_cookie_is_httponly_and_samesite(app: Any, make_user: Any) -> None:
    make_user("cat", "technician")
    client = app.test_client()
    response = client.post("/api/auth/login", json={"username": "cat", "password": PASSWORD})
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "HttpOnly" in cookies and "SameSite=Lax" in cookies


def test_state_changing_request_without_csrf_token_is_refused(login: Any) -> None:
    api = login("technician")
    response = api.client.post("/api/operations", json={"operations": []})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"


def test_login_rejects_malformed_json_with_a_clear_400(app: Any) -> None:
    client = app.test_client()
    response = client.post(
        "/api/auth/login", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_json"


def test_login_rejects_missing_fields_with_422(app: Any) -> None:
    response = app.test_client().post("/api/auth/login", json={"username": "x"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert "password" in response.json["error"]["message"]


def test_groups_write_needs_a_supervisor(login: Any) -> None:
    tech = login("technician")
    response = tech.post("/api/groups", json={"group_id": "prfi00site"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_users_cli_creates_a_user_from_stdin(app: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "dora", "--role", "supervisor", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created supervisor 'dora'" in result.output
    api = ApiClient(app.test_client())
    assert api.login("dora", "a long enough password").json["user"]["role"] == "supervisor"
    again = runner.invoke(
        args=["users", "create", "dora", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_openapi_document_lists_the_api(app: Any) -> None:
    doc = app.test_client().get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for path in ("/api/operations", "/api/auth/login", "/api/devices/{tuid}", "/api/groups"):
        assert path in doc["paths"], path
