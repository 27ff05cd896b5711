"""POST auth/client-token, token lifetime and the 401/403 answers for bad bearer tokens."""

from __future__ import annotations

import httpx
import pytest

from emulator.server import EmulatorServer

from .conftest import assert_error, fetch_token


def test_issues_opaque_tokens_and_several_stay_valid(
    emulator: EmulatorServer, anon: httpx.Client
) -> None:
    first, second = fetch_token(emulator), fetch_token(emulator)

    assert first != second
    for token in (first, second):
        response = anon.get("groups", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    assert emulator.state.stats()["token_requests"] == 2


def test_token_response_shape_with_charset_content_type(
    emulator: EmulatorServer, anon: httpx.Client
) -> None:
    body = f'{{"client_id":"{emulator.client_id}","client_secret":"{emulator.client_secret}"}}'
    response = anon.post(
        "auth/client-token",
        content=body,
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert list(response.json()) == ["data"]
    assert isinstance(response.json()["data"]["token"], str)


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": "fieldhand-test", "client_secret": "wrong"},
        {"client_id": "someone-else", "client_secret": "s3cret"},
    ],
)
def test_bad_credentials_are_401(anon: httpx.Client, credentials: dict[str, str]) -> None:
    response = anon.post("auth/client-token", json=credentials)

    assert_error(response, 401, "Unauthorized")
    assert response.reason_phrase == "Unauthorized"


@pytest.mark.parametrize(
    "body",
    [b'{"client_id": "fieldhand-test"}', b'{"client_secret": "s3cret"}', b"[]", b"not json", b""],
)
def test_malformed_token_request_is_400(anon: httpx.Client, body: bytes) -> None:
    response = anon.post(
        "auth/client-token", content=body, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400, "Bad Request")


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "Missing"),
        ("", "Missing"),
        ("Token abc", "not 'Bearer"),
        ("Bearer", "not 'Bearer"),
        ("Bearer two parts", "not 'Bearer"),
        ("Bearer no-such-token", "Unknown"),
    ],
)
def test_missing_malformed_or_unknown_bearer_is_401(
    anon: httpx.Client, authorization: str | None, reason: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = anon.get("groups", headers=headers)

    assert reason in assert_error(response, 401, "Unauthorized")


def test_bearer_scheme_is_case_insensitive(anon: httpx.Client, token: str) -> None:
    assert anon.get("groups", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_token_expires_after_its_lifetime(
    emulator: EmulatorServer, anon: httpx.Client, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    emulator.state.advance(899)
    assert anon.get("groups", headers=headers).status_code == 200

    emulator.state.advance(2)
    assert "expired" in assert_error(anon.get("groups", headers=headers), 401, "Unauthorized")

    fresh = {"Authorization": f"Bearer {fetch_token(emulator)}"}
    assert anon.get("groups", headers=fresh).status_code == 200


def test_clock_advance_over_the_control_surface_expires_tokens(
    anon: httpx.Client, control: httpx.Client, token: str
) -> None:
    before = control.get("clock").json()["now"]

    advanced = control.post("clock/advance", json={"seconds": 901}).json()["now"]

    assert advanced >= before + 901
    response = anon.get("groups", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "Unauthorized")


def test_token_ttl_setting_applies_to_new_tokens(
    emulator: EmulatorServer, anon: httpx.Client, control: httpx.Client
) -> None:
    control.post("settings", json={"token_ttl": 10})
    headers = {"Authorization": f"Bearer {fetch_token(emulator)}"}

    emulator.state.advance(9)
    assert anon.get("groups", headers=headers).status_code == 200
    emulator.state.advance(1)
    assert anon.get("groups", headers=headers).status_code == 401


def test_auth_failures_can_answer_403_like_api_gateway(
    emulator: EmulatorServer, anon: httpx.Client, token: str
) -> None:
    emulator.state.update_settings(auth_failure_status=403)
    emulator.state.advance(1000)

    response = anon.get("groups", headers={"Authorization": f"Bearer {token}"})

    message = assert_error(response, 403, "Forbidden")
    assert "authoriz" in message.lower()
    assert "expired" in message
    # Bad credentials on the token endpoint stay a plain 401.
    bad = anon.post("auth/client-token", json={"client_id": "x", "client_secret": "y"})
    assert bad.status_code == 401
