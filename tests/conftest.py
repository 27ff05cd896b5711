"""Shared fixtures: the Thingsee emulator over real HTTP, the app on SQLite or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.emulator.server import EmulatorServer, start_emulator
from app.emulator.state import EmulatorConfig


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """One emulator per test session on a free loopback port."""
    server = start_emulator(EmulatorConfig(client_id="fieldhand-test", client_secret="s3cret", seed=7))
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """The session emulator, reset to an empty, fault-free state for this test."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL when set (CI: PostgreSQL), else a SQLite file for this session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'test.sqlite3'}"
