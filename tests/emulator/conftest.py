"""Fixtures for driving the emulator over real HTTP: an authorised API client and control."""

from __future__ import annotations

import ssl
from collections.abc import Generator, Iterator

import httpx
import pytest

from emulator.server import EmulatorServer

# The emulator is plain HTTP, but httpx builds a TLS context per client (~30 ms); share one.
SHARED_TLS = ssl.create_default_context()


def fetch_token(emulator: EmulatorServer) -> str:
    """Ask the emulator for a fresh token with its configured credentials."""
    response = httpx.post(
        emulator.base_url + "auth/client-token",
        json={"client_id": emulator.client_id, "client_secret": emulator.client_secret},
        verify=SHARED_TLS,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["token"]
    return token


@pytest.fixture
def token(emulator: EmulatorServer) -> str:
    """A valid bearer token."""
    return fetch_token(emulator)


@pytest.fixture
def anon(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """An API client without credentials."""
    with httpx.Client(base_url=emulator.base_url, timeout=10.0, verify=SHARED_TLS) as client:
        yield client


class RefreshingBearer(httpx.Auth):
    """Send the current token; on a 401 fetch a new one and replay once, as clients do."""

    def __init__(self, emulator: EmulatorServer, token: str) -> None:
        self.emulator = emulator
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            self.token = fetch_token(self.emulator)
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


@pytest.fixture
def api(emulator: EmulatorServer, token: str) -> Iterator[httpx.Client]:
    """An API client with a valid token that it renews when tests move the clock past expiry."""
    auth = RefreshingBearer(emulator, token)
    with httpx.Client(
        base_url=emulator.base_url, auth=auth, timeout=10.0, verify=SHARED_TLS
    ) as client:
        yield client


@pytest.fixture
def control(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """A client for the /_emulator/ test-control surface."""
    with httpx.Client(base_url=emulator.control_url, timeout=10.0, verify=SHARED_TLS) as client:
        yield client


@pytest.fixture
def tuid(emulator: EmulatorServer) -> str:
    """One freshly seeded device."""
    (added,) = emulator.state.add_devices(count=1)
    return added


def assert_error(response: httpx.Response, status: int, error: str) -> str:
    """Check a §0 error body and return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status
    assert body["error"] == error
    assert isinstance(body["message"], str) and body["message"]
    message: str = body["message"]
    return message
