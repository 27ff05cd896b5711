"""Every error each platform documents, as the adapter raises it: the seed's return codes
(ThingsMatrix), error names (ThingScale) and HTTP statuses (thingsHub), injected by the
emulator or provoked for real, plus the rules each platform adds (group models, same group,
channel in use)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.platform.errors import (
    AuthError,
    Conflict,
    NotFound,
    NotSupported,
    PlatformError,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from app.platform.interface import UNASSIGNED
from app.platform.thingscale import ThingScaleClient
from app.platform.thingshub import ThingsHubClient
from app.platform.thingsmatrix import ThingsMatrixClient
from emulator.server import EmulatorServer
from tests.platforms import EmulatedPlatform

# The seed's return code table, by what retrying can or cannot fix (written out here, not
# imported from the adapter, so a wrong mapping there fails here).
THINGSMATRIX_CODES: dict[type[PlatformError], tuple[int, ...]] = {
    Unavailable: (-1, 9999, 10002, 10004, 10005, 10006, 10009, 10019),
    ValidationFailed: (
        10001,
        10008,
        10010,
        10011,
        10012,
        10014,
        10016,
        10017,
        14402,
        14403,
        14404,
        14405,
        14406,
        14407,
        14410,
    ),  # fmt: skip
    Conflict: (10003, 10013, 10015),
    NotFound: (10007, 10018, 14401, 14408),
    AuthError: (14103, 14201, 14202, 14203),
    NotSupported: (14501,),
}
THINGSCALE_ERRORS: dict[str, type[PlatformError]] = {
    "AUTH_REQUIRED": AuthError,
    "NO_DEVICE": NotFound,
    "NO_CHANNEL": NotFound,
    "MAX_DEVICE_REACH": ValidationFailed,
    "CHANNEL_INUSE": Conflict,
    "INVALID_PARAMETER": ValidationFailed,
    "TOO_MANY_REQUESTS": RateLimited,
    "INTERNAL_ERROR": Unavailable,
    "SERVICE_UNAVAILABLE": Unavailable,
}
THINGSHUB_STATUSES: dict[int, type[PlatformError]] = {
    400: ValidationFailed,
    403: AuthError,
    404: NotFound,
    500: Unavailable,
    503: Unavailable,
}


@pytest.fixture
def platform_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _client(emulator: EmulatorServer, **options: Any) -> Any:
    options.setdefault("timeout", 2.0)
    options.setdefault("retry_backoff", 0.01)
    options.setdefault("rate_limit", 0)
    if emulator.platform == "thingsmatrix":
        return ThingsMatrixClient(
            emulator.base_url, emulator.client_id, emulator.client_secret, **options
        )
    if emulator.platform == "thingscale":
        return ThingScaleClient(emulator.base_url, emulator.client_secret, **options)
    return ThingsHubClient(emulator.base_url, emulator.client_id, emulator.client_secret, **options)


@pytest.fixture
def client(emulator: EmulatorServer, closing: Callable[[Any], Any]) -> Any:
    return closing(_client(emulator))


def _queue(emulator: EmulatorServer, error: int | str, path: str | None = None) -> None:
    emulator.state.update_settings(fail_next_error=[{"error": error, "path": path}])


# ---- ThingsMatrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("platform_name", ["thingsmatrix"], indirect=True)
@pytest.mark.parametrize(
    ("code", "kind"), [(c, k) for k, codes in THINGSMATRIX_CODES.items() for c in codes]
)
def test_thingsmatrix_return_codes(
    client: ThingsMatrixClient, emulator: EmulatorServer, code: int, kind: type[PlatformError]
) -> None:
    (sn,) = emulator.state.add_devices(count=1)
    client.get_thing(sn)  # logged in
    _queue(emulator, code)
    with pytest.raises(kind) as caught:
        client.set_installation_status(sn, "installed")  # a write: never retried here
    assert type(caught.value) is kind
    assert caught.value.code == code and f"(code {code})" in caught.value.message
    assert caught.value.status == (500 if kind is Unavailable else caught.value.status)


@pytest.mark.parametrize("platform_name", ["thingsmatrix"], indirect=True)
@pytest.mark.parametrize("code", [14101, 14102])
def test_thingsmatrix_token_codes_refresh_once(
    client: ThingsMatrixClient, emulator: EmulatorServer, code: int
) -> None:
    (sn,) = emulator.state.add_devices(count=1)
    client.get_thing(sn)
    _queue(emulator, code)
    client.set_installation_status(sn, "installed")  # refused, fresh token, replayed
    assert client.token_requests() == 2
    assert len(emulator.state.installation_history(sn)) == 2
    emulator.state.update_settings(fail_next_error=[code, code])
    with pytest.raises(AuthError):
        client.get_thing(sn)


@pytest.mark.parametrize("platform_name", ["thingsmatrix"], indirect=True)
def test_thingsmatrix_login_codes(emulator: EmulatorServer) -> None:
    with _client(emulator, max_retries=0) as wrong:
        wrong._client_secret = "not-the-password"
        with pytest.raises(AuthError, match="username or password incorrect"):
            wrong.list_groups()
    for code in (14202, 14203):
        with _client(emulator) as client:
            _queue(emulator, code, "/auth/login")
            with pytest.raises(AuthError, match="forbidden"):
                client.list_groups()


@pytest.mark.parametrize("platform_name", ["thingsmatrix"], indirect=True)
def test_thingsmatrix_api_key(emulator: EmulatorServer) -> None:
    (sn,) = emulator.state.add_devices(count=1)
    with ThingsMatrixClient(emulator.base_url, api_key=emulator.client_secret) as client:
        client.set_installation_status(sn, "installed")
        assert client.get_installation_status(sn) == "installed"
        assert client.token_requests() == 0 == emulator.state.stats()["token_requests"]
        emulator.state.rotate_api_key()  # type: ignore[attr-defined]
        with pytest.raises(AuthError, match="not authorized"):
            client.get_thing(sn)


@pytest.mark.parametrize("platform_name", ["thingsmatrix"], indirect=True)
def test_thingsmatrix_groups_take_one_model_and_refuse_to_delete_members(
    client: ThingsMatrixClient, emulator: EmulatorServer, emulated: EmulatedPlatform
) -> None:
    first, other = emulator.state.add_devices(count=2)
    emulator.state.set_model(other, "TMB02")  # type: ignore[attr-defined]
    group = client.create_group("prfi00site")
    client.set_group(first, group.group_id)
    with pytest.raises(ValidationFailed, match="does not match model") as caught:
        client.set_group(other, group.group_id)
    assert caught.value.code == 14410
    with pytest.raises(ValidationFailed, match="and group are related"):
        client.delete_group(group.group_id)
    with pytest.raises(Conflict, match="alreayd exists"):
        client.create_group("prfi00site")
    client.set_group(first, UNASSIGNED)
    client.delete_group(group.group_id)


@pytest.mark.parametrize("platform_name", ["thingsmatrix"], indirect=True)
def test_thingsmatrix_reads_every_page(
    client: ThingsMatrixClient, emulator: EmulatorServer
) -> None:
    sns = emulator.state.add_devices(count=230)
    group = client.create_group("prfi00big")
    for sn in sns:
        emulator.state.join_group(sn, group.group_id)  # type: ignore[attr-defined]
    for n in range(105):
        client.create_group(f"prfi00g{n:03d}")
    assert sorted(client.group_things(group.group_id)) == sorted(sns)
    assert len(client.list_groups()) == 1 + 1 + 105  # unassigned, big, the rest
    pages = [c for c in emulator.state.call_log if c.path.endswith("/devices/search")]
    assert len(pages) == 3


def test_thingsmatrix_code_errors_under_http_200() -> None:
    """A return code is an error even when the HTTP status says 200 (ASSUMPTION either way)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/login"):
            return httpx.Response(200, json={"code": 0, "data": {"token": "t"}, "msg": "success"})
        body = {"code": 14401, "data": None, "msg": "invalid or non-existent equipment"}
        return httpx.Response(200, content=json.dumps(body))

    transport = httpx.MockTransport(answer)
    client = ThingsMatrixClient("http://tm.invalid/api", "u", "p", transport=transport)
    with client, pytest.raises(NotFound, match="non-existent equipment"):
        client.get_thing("12345688922")


# ---- ThingScale ----------------------------------------------------------------------------


@pytest.mark.parametrize("platform_name", ["thingscale"], indirect=True)
@pytest.mark.parametrize(("error", "kind"), list(THINGSCALE_ERRORS.items()))
def test_thingscale_errors(
    client: ThingScaleClient, emulator: EmulatorServer, error: str, kind: type[PlatformError]
) -> None:
    (device,) = emulator.state.add_devices(count=1)
    _queue(emulator, error)
    with pytest.raises(kind) as caught:
        client.set_installation_status(device, "installed")
    assert type(caught.value) is kind
    if kind is Unavailable:
        assert caught.value.outcome_unknown  # a write answered 5xx may have landed


@pytest.mark.parametrize("platform_name", ["thingscale"], indirect=True)
def test_thingscale_channels(client: ThingScaleClient, emulator: EmulatorServer) -> None:
    (device,) = emulator.state.add_devices(count=1)
    client.create_group("7", "Hall 7")
    with pytest.raises(Conflict) as caught:
        client.create_group("7")
    assert caught.value.code == "CHANNEL_INUSE"
    with pytest.raises(ValidationFailed, match="channel number"):
        client.create_group("prfi00site")
    with pytest.raises(NotFound, match="no channel 8"):
        client.set_group(device, "8")
    client.set_group(device, "7")
    client.set_installation_status(device, "installed")
    detail = emulator.state.thing_snapshot(device)
    assert detail["group_id"] == "7"
    wrong = ThingScaleClient(emulator.base_url, "not-the-token", timeout=2.0)
    with wrong, pytest.raises(AuthError):
        wrong.get_thing(device)


@pytest.mark.parametrize("platform_name", ["thingscale"], indirect=True)
def test_thingscale_status_falls_back_to_activation(
    client: ThingScaleClient, emulator: EmulatorServer
) -> None:
    """A device activated outside Fieldhand (no metadata) reads as installed, then uninstalled."""
    (device,) = emulator.state.add_devices(count=1)
    assert client.get_installation_status(device) == "new"
    client._send_json("PUT", f"device/{device}", body={"enabled": True})
    assert client.get_installation_status(device) == "installed"
    client._send_json("PUT", f"device/{device}", body={"enabled": False})
    assert client.get_installation_status(device) == "uninstalled"
    client.set_installation_status(device, "quarantine")
    assert client.get_installation_status(device) == "quarantine"
    assert client.get_thing(device).raw["enabled"] is False


# ---- thingsHub -----------------------------------------------------------------------------


@pytest.mark.parametrize("platform_name", ["thingshub"], indirect=True)
@pytest.mark.parametrize(("status", "kind"), list(THINGSHUB_STATUSES.items()))
def test_thingshub_error_objects(
    client: ThingsHubClient, emulator: EmulatorServer, status: int, kind: type[PlatformError]
) -> None:
    (eui,) = emulator.state.add_devices(count=1)
    client.get_thing(eui)
    _queue(emulator, status)
    with pytest.raises(kind) as caught:
        client.set_installation_status(eui, "installed")  # a write: never retried here
    assert caught.value.status == status


@pytest.mark.parametrize("platform_name", ["thingshub"], indirect=True)
def test_thingshub_session_ending_early_is_refreshed_once(
    client: ThingsHubClient, emulator: EmulatorServer
) -> None:
    (eui,) = emulator.state.add_devices(count=1)
    client.get_thing(eui)
    emulator.state.end_sessions()  # type: ignore[attr-defined]
    client.set_installation_status(eui, "installed")
    assert client.token_requests() == 2
    _queue(emulator, 401)
    client.get_thing(eui)  # one 401: refresh and replay
    assert client.token_requests() == 3


@pytest.mark.parametrize("platform_name", ["thingshub"], indirect=True)
def test_thingshub_bad_login_is_invalid_credentials(emulator: EmulatorServer) -> None:
    client = ThingsHubClient(emulator.base_url, "someone", "wrong", timeout=2.0)
    with client, pytest.raises(AuthError, match="invalid credentials") as caught:
        client.get_thing("70B3D57ED0041D8A")
    assert caught.value.status == 400


def test_thingshub_reads_nanosecond_times_and_the_session_lifetime() -> None:
    from app.platform.thingshub import _session_lifetime, parse_time

    seen = parse_time("2018-11-15T21:28:10.517042266Z")
    assert seen is not None and seen.microsecond == 517042
    answer = {
        "User": {"last_login_at": "2018-11-15T21:28:10.517042266Z"},
        "expires": "2018-11-22T21:28:10.505019278Z",
    }
    assert _session_lifetime(answer) == pytest.approx(7 * 86400 - 0.012023)
    assert _session_lifetime({"expires": "soon"}) is None
