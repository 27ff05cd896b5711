"""The ThingsMatrix, ThingScale and thingsHub adapters against their emulators over real HTTP:
reads and writes, declared capabilities, one token per lifetime, refresh after expiry, rate
limits, GET-only retries and every documented error (the platform-specific cases are in
test_adapter_errors.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest

from app.platform.errors import (
    AuthError,
    NotFound,
    NotSupported,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from app.platform.http import HttpPlatform
from app.platform.interface import UNASSIGNED
from app.platform.provider import build_platform
from emulator.server import EmulatorServer
from tests.platform.harness import ManualClock
from tests.platforms import EmulatedPlatform, emulator_settings

OTHERS = ("thingsmatrix", "thingscale", "thingshub")


@pytest.fixture(params=OTHERS)
def platform_name(request: pytest.FixtureRequest) -> str:
    """Each of the other platforms in turn (overrides the conftest default)."""
    return str(request.param)


@pytest.fixture
def make_client(
    emulator: EmulatorServer, closing: Callable[[HttpPlatform], HttpPlatform]
) -> Callable[..., HttpPlatform]:
    """Build adapters on the emulator, as the app does from settings; closed after the test."""

    def _make(**settings: Any) -> HttpPlatform:
        config = {**emulator_settings(emulator), "PLATFORM_TIMEOUT_S": 2.0, **settings}
        client = build_platform(config)
        assert isinstance(client, HttpPlatform)
        client.retry_backoff = 0.01
        return closing(client)

    return _make


@pytest.fixture
def client(make_client: Callable[..., HttpPlatform]) -> HttpPlatform:
    return make_client(PLATFORM_RATE_LIMIT=0)


def _skip_fixed_tokens(emulated: EmulatedPlatform) -> None:
    if not emulated.refreshes_tokens:
        pytest.skip("ThingScale's API token does not expire")


def _device(emulator: EmulatorServer) -> str:
    (device_id,) = emulator.state.add_devices(count=1)
    return str(device_id)


@pytest.fixture
def held_clock_client(
    make_client: Callable[..., HttpPlatform], emulated: EmulatedPlatform
) -> tuple[HttpPlatform, ManualClock]:
    """A client whose token clock moves only by hand, on a platform whose tokens expire."""
    _skip_fixed_tokens(emulated)
    clock = ManualClock()
    client = make_client(PLATFORM_RATE_LIMIT=0)
    client._tokens._clock = clock
    return client, clock


def test_status_round_trip_and_no_history(client: HttpPlatform, emulator: EmulatorServer) -> None:
    device = _device(emulator)
    client.set_installation_status(device, "installed")
    assert client.get_installation_status(device) == "installed"
    client.set_installation_status(device, "retired")
    assert client.get_installation_status(device) == "retired"
    records = emulator.state.installation_history(device)
    assert [r["installation_status"] for r in records] == ["new", "installed", "retired"]
    assert not client.capabilities.installation_history
    with pytest.raises(NotSupported):
        client.get_installations(device)
    with pytest.raises(ValidationFailed):
        client.set_installation_status(device, "broken")


def test_untouched_device_reads_as_the_platform_shows_it(
    client: HttpPlatform, emulator: EmulatorServer, emulated: EmulatedPlatform
) -> None:
    device = _device(emulator)
    assert client.get_installation_status(device) == emulated.fresh_status
    assert client.get_group(device) == UNASSIGNED
    info = client.get_thing(device)
    assert info.tuid == device
    caps = client.capabilities
    assert (info.online is not None) == caps.online_status
    assert (info.timestamp is not None) == caps.last_seen


def test_unknown_device_is_not_found(client: HttpPlatform, emulated: EmulatedPlatform) -> None:
    for call in (client.get_thing, client.get_installation_status):
        with pytest.raises(NotFound):
            call(emulated.unknown_device)
    with pytest.raises(NotFound):
        client.set_installation_status(emulated.unknown_device, "installed")


def test_groups_as_the_capabilities_say(
    client: HttpPlatform, emulator: EmulatorServer, emulated: EmulatedPlatform
) -> None:
    caps = client.capabilities
    device = _device(emulator)
    if not caps.deployment_groups:
        assert client.list_groups() == []
        assert client.set_group(device, UNASSIGNED) == UNASSIGNED
        for call in (
            lambda: client.set_group(device, "prfi00site"),
            lambda: client.create_group("prfi00site"),
            lambda: client.group_things("prfi00site"),
        ):
            with pytest.raises(NotSupported):
                call()
        return
    created = client.create_group("12" if emulated.name == "thingscale" else "prfi00site", "Site")
    listed = {g.group_id: g.description for g in client.list_groups()}
    assert UNASSIGNED in listed and created.group_id in listed
    client.set_group(device, created.group_id)
    client.set_group(device, created.group_id)  # again: already done, not an error
    assert client.get_group(device) == created.group_id
    assert client.group_things(created.group_id) == [device]
    client.set_group(device, UNASSIGNED)
    client.set_group(device, UNASSIGNED)
    assert client.get_group(device) == UNASSIGNED
    with pytest.raises(NotFound):
        client.set_group(device, emulated.missing_group)
    assert not caps.group_rename
    with pytest.raises(NotSupported):
        client.rename_group(created.group_id, "prfi00other")
    client.delete_group(created.group_id)
    assert created.group_id not in {g.group_id for g in client.list_groups()}


def test_unsupported_extras_say_so(client: HttpPlatform) -> None:
    caps = client.capabilities
    assert not (caps.messages or caps.commands or caps.alerts)
    for call in (
        lambda: client.get_messages("X", 5),
        lambda: client.get_commands("X"),
        lambda: client.send_commands("X", [{"tsmId": 1500}]),
        client.alerting_tuids,
        client.alert_count,
        lambda: client.thing_alerts("X"),
    ):
        with pytest.raises(NotSupported, match=client.profile.title):
            call()


def test_one_token_per_lifetime_across_threads(
    make_client: Callable[..., HttpPlatform], emulator: EmulatorServer, emulated: EmulatedPlatform
) -> None:
    devices = emulator.state.add_devices(count=8)
    client = make_client(PLATFORM_RATE_LIMIT=0)
    start = threading.Barrier(16)

    def read(i: int) -> str | None:
        if i < 16:
            start.wait(timeout=10)
        return client.get_installation_status(devices[i % len(devices)])

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(read, range(64)))
    expected = 1 if emulated.refreshes_tokens else 0
    assert client.token_requests() == expected
    assert emulator.state.stats()["token_requests"] == expected


def test_expired_token_is_refreshed_once_and_the_call_replayed(
    held_clock_client: tuple[HttpPlatform, ManualClock], emulator: EmulatorServer
) -> None:
    client, _ = held_clock_client  # our clock stands still: only the platform's moves on
    device = _device(emulator)
    client.get_installation_status(device)
    emulator.state.advance(emulator.state.settings.token_ttl + 1)
    client.set_installation_status(device, "installed")  # a write, replayed once
    assert client.token_requests() == 2
    assert emulator.state.installation_history(device)[-1]["installation_status"] == "installed"
    assert len(emulator.state.installation_history(device)) == 2  # applied once


def test_token_is_refreshed_before_its_lifetime_ends(
    held_clock_client: tuple[HttpPlatform, ManualClock], emulator: EmulatorServer
) -> None:
    client, clock = held_clock_client
    device = _device(emulator)
    client.get_installation_status(device)
    token = client._tokens.current()
    # thingsHub says when the session ends; the others use the lifetime we assume.
    assert token.refresh_after == emulator.state.settings.token_ttl - 60
    clock.advance(token.refresh_after - 1)
    client.get_installation_status(device)
    assert client.token_requests() == 1
    clock.advance(1)
    client.get_installation_status(device)
    assert client.token_requests() == 2 == emulator.state.stats()["token_requests"]
    assert all(call.status == 200 for call in emulator.state.call_log)  # never refused


def test_a_refused_fresh_token_or_key_is_an_auth_error(
    make_client: Callable[..., HttpPlatform], emulator: EmulatorServer, emulated: EmulatedPlatform
) -> None:
    device = _device(emulator)
    client = make_client(PLATFORM_RATE_LIMIT=0)
    client.get_installation_status(device)
    state: Any = emulator.state
    if emulated.refreshes_tokens:
        # Sessions end and the credentials change: the refresh is refused too.
        state.end_sessions()
        state.initial_config = replace(state.initial_config, client_secret="changed")
    else:
        state.rotate_api_key()  # an admin reset the key in the GUI
    calls_before = len(state.call_log)
    with pytest.raises(AuthError) as caught:
        client.get_installation_status(device)
    assert "s3cret" not in str(caught.value)
    # One refused call, plus (where tokens are fetched) one refused login: nothing more.
    assert len(state.call_log) - calls_before == (2 if emulated.refreshes_tokens else 1)


def test_bad_credentials_cost_one_request(
    make_client: Callable[..., HttpPlatform], emulator: EmulatorServer, emulated: EmulatedPlatform
) -> None:
    device = _device(emulator)
    secret = "wrong-secret"
    client = make_client(
        PLATFORM_CLIENT_SECRET=secret,
        PLATFORM_API_KEY=secret if emulated.name == "thingscale" else None,
        PLATFORM_RATE_LIMIT=0,
    )
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _raises(client, device), range(8)))
    assert all(isinstance(e, AuthError) for e in outcomes)
    assert all(secret not in str(e) for e in outcomes)
    if emulated.refreshes_tokens:
        assert emulator.state.stats()["token_requests"] <= 8
        assert client.token_requests() >= 1


def _raises(client: HttpPlatform, device: str) -> Exception | None:
    try:
        client.get_installation_status(device)
    except Exception as exc:
        return exc
    return None


def test_429_is_rate_limited_with_retry_after_and_not_retried(
    client: HttpPlatform, emulator: EmulatorServer
) -> None:
    device = _device(emulator)
    client.get_installation_status(device)
    emulator.state.update_settings(rate_limit=1.0)
    client.get_installation_status(device)
    before = len(emulator.state.call_log)
    with pytest.raises(RateLimited) as caught:
        client.get_installation_status(device)
    assert caught.value.retry_after == 1.0
    assert len(emulator.state.call_log) - before == 1


def test_pacing_keeps_the_client_under_the_documented_limit(
    make_client: Callable[..., HttpPlatform], emulator: EmulatorServer
) -> None:
    devices = emulator.state.add_devices(count=4)
    emulator.state.update_settings(rate_limit=10.0)
    client = make_client(PLATFORM_RATE_LIMIT=10.0)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.get_installation_status(devices[i % 4]), range(24)))
    refused = [c for c in emulator.state.call_log if c.status == 429]
    assert refused == []


def test_gets_are_retried_and_writes_are_not(
    client: HttpPlatform, emulator: EmulatorServer
) -> None:
    device = _device(emulator)
    client.get_installation_status(device)
    emulator.state.update_settings(fail_next=[503, 502])
    client.get_installation_status(device)
    assert [c.status for c in emulator.state.call_log[-3:]] == [503, 502, 200]
    emulator.state.update_settings(fail_next=[{"status": 503, "path": "/installations"}])
    with pytest.raises(Unavailable) as caught:
        client.set_installation_status(device, "installed")
    assert caught.value.outcome_unknown
    assert emulator.state.call_log[-1].status == 503
    assert len(emulator.state.installation_history(device)) == 1  # refused before applying
