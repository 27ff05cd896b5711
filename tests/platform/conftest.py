"""Fixtures for the Thingsee client: clients on the emulator, its control surface, and a
scripted loopback server for answers the emulator never gives (garbage bodies)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import pytest

from app.platform.thingsee import ThingseeClient
from emulator.server import EmulatorServer
from tests.platform.harness import EmulatorControl, ScriptedServer


@pytest.fixture
def control(emulator: EmulatorServer) -> Iterator[EmulatorControl]:
    """The reset session emulator's control surface."""
    ctl = EmulatorControl(emulator)
    yield ctl
    ctl.close()


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


@pytest.fixture
def closing() -> Iterator[Callable[[C], C]]:
    """Hand back each client given to it, and close them all after the test."""
    clients: list[_Closable] = []

    def _keep(client: C) -> C:
        clients.append(client)
        return client

    yield _keep
    for client in clients:
        client.close()


@pytest.fixture
def make_client(
    emulator: EmulatorServer, closing: Callable[[ThingseeClient], ThingseeClient]
) -> Callable[..., ThingseeClient]:
    """Build clients on the emulator with test-sized timeouts; all closed after the test."""

    def _make(**options: Any) -> ThingseeClient:
        options.setdefault("timeout", 2.0)
        options.setdefault("retry_backoff", 0.01)
        base_url = options.pop("base_url", emulator.base_url)
        client_id = options.pop("client_id", emulator.client_id)
        secret = options.pop("client_secret", emulator.client_secret)
        return closing(ThingseeClient(base_url, client_id, secret, **options))

    return _make


@pytest.fixture
def client(make_client: Callable[..., ThingseeClient]) -> ThingseeClient:
    """A client on the emulator with default policy and small timeouts."""
    return make_client()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    """A scripted loopback server; unscripted paths answer 404, tokens are always issued."""
    server = ScriptedServer()
    yield server
    server.stop()


@pytest.fixture
def scripted_client(scripted: ScriptedServer) -> Iterator[ThingseeClient]:
    """A client on the scripted server."""
    client = ThingseeClient(
        scripted.base_url, "scripted-id", "scripted-secret", timeout=2.0, retry_backoff=0.01
    )
    yield client
    client.close()
