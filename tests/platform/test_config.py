"""Building the client from settings, and its lifecycle."""

from __future__ import annotations

import httpx
import pytest

from app.platform.interface import Platform
from app.platform.provider import build_platform
from app.platform.thingsee import ThingseeClient
from emulator.server import EmulatorServer
from tests.platform.harness import EmulatorControl


def test_from_config_reads_platform_settings(emulator: EmulatorServer) -> None:
    client = ThingseeClient.from_config(
        {
            "PLATFORM_URL": emulator.base_url.rstrip("/"),  # the slash comes back
            "PLATFORM_CLIENT_ID": emulator.client_id,
            "PLATFORM_CLIENT_SECRET": emulator.client_secret,
            "PLATFORM_TIMEOUT_S": 7.5,
            "PLATFORM_TOKEN_TTL_S": 300.0,
        }
    )
    with client:
        assert client.base_url == emulator.base_url
        timeout = client._http.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (5.0, 7.5, 7.5, 7.5)
        assert client._tokens._refresh_after == 240.0
        assert client.list_groups()  # it really talks to the emulator


def test_the_read_timeout_never_outlasts_the_in_flight_bound(emulator: EmulatorServer) -> None:
    config = {
        "PLATFORM_URL": emulator.base_url,
        "PLATFORM_CLIENT_ID": emulator.client_id,
        "PLATFORM_CLIENT_SECRET": emulator.client_secret,
        "PLATFORM_TIMEOUT_S": 45.0,
        "PLATFORM_INFLIGHT_BOUND_S": 29.0,
    }
    # Past the bound the gateway has answered 504 anyway: waiting longer cannot learn more.
    with ThingseeClient.from_config(config) as client:
        assert client._http.timeout.read == 29.0
    with ThingseeClient.from_config({**config, "PLATFORM_TIMEOUT_S": 10.0}) as client:
        assert client._http.timeout.read == 10.0


def test_build_platform_gives_a_thingsee_client(emulator: EmulatorServer) -> None:
    platform: Platform = build_platform(
        {
            "PLATFORM_URL": emulator.base_url,
            "PLATFORM_CLIENT_ID": emulator.client_id,
            "PLATFORM_CLIENT_SECRET": emulator.client_secret,
            "PLATFORM_TIMEOUT_S": None,
        }
    )
    assert isinstance(platform, ThingseeClient)
    platform.close()


@pytest.mark.parametrize(
    "missing", ["PLATFORM_URL", "PLATFORM_CLIENT_ID", "PLATFORM_CLIENT_SECRET"]
)
def test_from_config_requires_url_and_credentials(missing: str) -> None:
    config = {
        "PLATFORM_URL": "http://127.0.0.1:1/prod/v1/",
        "PLATFORM_CLIENT_ID": "id",
        "PLATFORM_CLIENT_SECRET": "secret",
        missing: None,
    }
    with pytest.raises(ValueError, match=missing):
        ThingseeClient.from_config(config)


def test_small_timeout_caps_the_connect_timeout() -> None:
    with ThingseeClient("http://127.0.0.1:1/prod/v1/", "id", "s", timeout=0.5) as client:
        assert client._http.timeout.connect == 0.5
    custom = httpx.Timeout(3.0, connect=1.0)
    with ThingseeClient("http://127.0.0.1:1/prod/v1/", "id", "s", timeout=custom) as client:
        assert client._http.timeout == custom


def test_closed_client_refuses_to_send(client: ThingseeClient, control: EmulatorControl) -> None:
    (tuid,) = control.devices(1)
    with client:
        assert client.get_installation_status(tuid) == "new"
    with pytest.raises(RuntimeError):
        client.get_installation_status(tuid)


def test_repr_names_the_stack_but_not_the_secret(client: ThingseeClient) -> None:
    text = repr(client)
    assert client.base_url in text and client.client_id in text
    assert client._client_secret not in text
