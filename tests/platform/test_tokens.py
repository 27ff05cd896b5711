"""Token policy (spec §1): cached, refreshed before expiry, single flight, 401/403 replay once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.platform.errors import AuthError, PlatformError
from app.platform.thingsee import ThingseeClient
from tests.platform.harness import (
    Answer,
    EmulatorControl,
    ManualClock,
    ScriptedServer,
)

TTL = 900.0
MARGIN = 60.0


def _hammer(client: ThingseeClient, tuids: list[str], threads: int = 32) -> list[str | None]:
    """Call get_installation_status from `threads` threads released at the same moment."""
    barrier = threading.Barrier(threads)

    def one(i: int) -> str | None:
        barrier.wait(timeout=10)
        return client.get_installation_status(tuids[i % len(tuids)])

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


def test_one_token_serves_many_calls(client: ThingseeClient, control: EmulatorControl) -> None:
    tuids = control.devices(3)
    for _ in range(5):
        for tuid in tuids:
            client.get_installation_status(tuid)
            client.get_group(tuid)
    assert client.token_requests() == 1
    assert control.token_requests() == 1
    assert all(call["status"] == 200 for call in control.calls())


def test_token_is_refreshed_before_it_expires(
    make_client: Callable[..., ThingseeClient], control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    clock = ManualClock()
    client = make_client(clock=clock, token_ttl=TTL, token_margin=MARGIN)
    client.get_installation_status(tuid)

    clock.advance(TTL - MARGIN - 1)  # still fresh
    client.get_installation_status(tuid)
    assert client.token_requests() == 1

    # Both clocks pass the lifetime: the client refreshes before use and never sees a 401.
    clock.advance(2)
    control.advance(TTL + 1)
    for _ in range(5):
        client.get_installation_status(tuid)
    assert client.token_requests() == 2
    assert control.token_requests() == 2
    assert [c["status"] for c in control.calls() if c["status"] != 200] == []


def test_32_threads_on_a_stale_token_make_one_token_request(
    make_client: Callable[..., ThingseeClient], control: EmulatorControl
) -> None:
    tuids = control.devices(8)
    clock = ManualClock()
    client = make_client(clock=clock, token_ttl=TTL, token_margin=MARGIN)
    client.get_installation_status(tuids[0])
    clock.advance(TTL)
    control.advance(TTL + 1)
    # Latency makes the token request slow, so the other 31 threads really wait for it.
    control.settings(latency_ms=100)

    assert _hammer(client, tuids) == ["new"] * 32
    assert client.token_requests() == 2
    assert control.token_requests() == 2
    assert [c["status"] for c in control.calls() if c["status"] != 200] == []


def test_externally_expired_token_is_refreshed_once_and_replayed(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.get_installation_status(tuid)
    control.advance(TTL + 1)  # the platform's clock runs ahead of ours
    control.clear_calls()

    record = client.set_installation_status(tuid, "installed")
    assert record.installation_status == "installed"
    statuses = [(c["method"], c["status"]) for c in control.api_calls()]
    assert statuses == [("POST", 401), ("POST", 200)]
    assert client.token_requests() == 2
    # The replay did not write twice.
    assert [r.installation_status for r in client.get_installations(tuid, limit=5)] == [
        "installed",
        "new",
    ]


def test_32_threads_refused_at_once_share_one_new_token(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    tuids = control.devices(8)
    client.get_installation_status(tuids[0])
    control.advance(TTL + 1)
    control.settings(latency_ms=50)

    assert _hammer(client, tuids) == ["new"] * 32
    assert client.token_requests() == 2
    assert control.token_requests() == 2


def test_403_about_authorization_is_treated_as_a_token_failure(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.get_installation_status(tuid)
    control.settings(auth_failure_status=403)
    control.advance(TTL + 1)
    control.clear_calls()

    assert client.get_installation_status(tuid) == "new"
    assert [c["status"] for c in control.api_calls()] == [403, 200]
    assert client.token_requests() == 2


def test_a_second_refusal_raises_auth_error(
    make_client: Callable[..., ThingseeClient], control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client = make_client()
    refused = {"status": 401, "path": "/installations"}
    control.settings(fail_next=[refused, refused])
    with pytest.raises(AuthError) as caught:
        client.get_installation_status(tuid)
    assert caught.value.status == 401
    assert client.token_requests() == 2
    # The refusal is not sticky: the next call works with the token we have.
    assert client.get_installation_status(tuid) == "new"
    assert client.token_requests() == 2


def test_bad_credentials_raise_auth_error(
    make_client: Callable[..., ThingseeClient], control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client = make_client(client_secret="wrong")
    with pytest.raises(AuthError) as caught:
        client.get_installation_status(tuid)
    assert caught.value.status == 401
    assert "credentials" in caught.value.message
    assert control.api_calls() == []  # nothing was sent without a token


def test_403_that_is_not_about_tokens_does_not_refresh(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script("GET", "things/T1/group", Answer(403, {"message": "Forbidden"}))
    with pytest.raises(AuthError):
        scripted_client.get_group("T1")
    assert scripted_client.token_requests() == 1
    assert len(scripted.requests_to("things/T1/group")) == 1


@pytest.mark.parametrize(
    "message",
    ["Missing Authentication Token", "User is not authorized to access this resource"],
)
def test_api_gateway_403_refreshes_and_replays(
    scripted: ScriptedServer, scripted_client: ThingseeClient, message: str
) -> None:
    ok = Answer(200, {"data": {"group_id": "g1", "tuid": "T1"}})
    scripted.script("GET", "things/T1/group", Answer(403, {"message": message}), ok)
    assert scripted_client.get_group("T1") == "g1"
    assert scripted_client.token_requests() == 2
    seen = scripted.requests_to("things/T1/group")
    assert [s.authorization for s in seen] == [
        "Bearer scripted-token-1",
        "Bearer scripted-token-2",
    ]


def test_secrets_and_tokens_never_reach_logs_or_reprs(
    make_client: Callable[..., ThingseeClient],
    control: EmulatorControl,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tuid,) = control.devices(1)
    secret = control.server.client_secret
    caplog.set_level(logging.DEBUG)
    client = make_client()
    client.get_installation_status(tuid)
    control.advance(TTL + 1)  # force a 401, a refresh and a replay
    client.set_installation_status(tuid, "installed")
    control.settings(fail_next=[500, 401, 401])
    errors: list[PlatformError] = []
    for call in (lambda: client.set_group(tuid, "nosuch"), lambda: client.get_group(tuid)):
        try:
            call()
        except PlatformError as exc:
            errors.append(exc)
    bad = make_client(client_secret=secret + "-wrong")
    with pytest.raises(AuthError) as refused:
        bad.get_thing(tuid)
    errors.append(refused.value)

    token = client._tokens.current().value  # the live token, to look for it
    assert client.token_requests() >= 2
    assert caplog.records, "the client logs at DEBUG"
    for text in (caplog.text, repr(client), repr(client._tokens), *map(str, errors)):
        assert secret not in text
        assert token not in text


def test_an_echoed_secret_is_scrubbed_from_the_error(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    echo = Answer(401, {"message": "bad client_secret 'scripted-secret'"})
    scripted.script("POST", "auth/client-token", echo)
    with pytest.raises(AuthError) as caught:
        scripted_client.get_thing("T1")
    assert "scripted-secret" not in str(caught.value)
    assert "***" in caught.value.message
