"""Shared fixtures: the emulator over real HTTP, the app on SQLite or PostgreSQL.

Tests marked `all_platforms` run once per platform: `platform_name` picks the emulator mode and
the app's PLATFORM setting (`--platforms thingsee,thingshub` narrows the list). Every other test
runs on Thingsee.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.sync.worker import SyncWorker, WorkerSettings
from emulator.platforms import platform_defaults
from emulator.server import EmulatorServer, start_emulator
from emulator.state import EmulatorConfig
from tests.platforms import PLATFORMS, EmulatedPlatform, emulator_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--platforms",
        default="all",
        help="platforms the all_platforms tests run on: all, or a comma-separated list of "
        + ", ".join(PLATFORMS),
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "platform_name" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("all_platforms") is None:
        return  # the platform_name fixture below: Thingsee
    chosen = metafunc.config.getoption("--platforms")
    names = PLATFORMS if chosen == "all" else tuple(n.strip() for n in chosen.split(","))
    unknown = set(names) - set(PLATFORMS)
    if unknown:
        raise pytest.UsageError(f"--platforms: unknown {', '.join(sorted(unknown))}")
    metafunc.parametrize("platform_name", names)


@pytest.fixture
def platform_name() -> str:
    """The platform a test runs against; all_platforms tests get each in turn."""
    return "thingsee"


class EmulatorPool:
    """One emulator per platform for the whole session, started on first use."""

    def __init__(self) -> None:
        self._servers: dict[str, EmulatorServer] = {}

    def get(self, platform: str) -> EmulatorServer:
        if platform not in self._servers:
            config = EmulatorConfig(client_id="fieldhand-test", client_secret="s3cret", seed=7)
            # The platform's token lifetime, but no rate limit unless a test sets one.
            config = replace(platform_defaults(platform, config), rate_limit=0.0)
            self._servers[platform] = start_emulator(config, platform=platform)
        return self._servers[platform]

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()


@pytest.fixture(scope="session")
def emulator_pool() -> Iterator[EmulatorPool]:
    pool = EmulatorPool()
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def emulator_server(emulator_pool: EmulatorPool) -> EmulatorServer:
    """The session's Thingsee emulator on a free loopback port."""
    return emulator_pool.get("thingsee")


@pytest.fixture
def emulator(emulator_pool: EmulatorPool, platform_name: str) -> EmulatorServer:
    """The session emulator of this test's platform, reset to an empty, fault-free state."""
    server = emulator_pool.get(platform_name)
    server.reset()
    return server


@pytest.fixture
def emulated(emulator: EmulatorServer) -> EmulatedPlatform:
    """What differs between platforms, for tests that run on each."""
    return EmulatedPlatform(emulator)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL when set (CI: PostgreSQL), else a SQLite file for this session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'test.sqlite3'}"


def _reset_database(url: str) -> None:
    """Drop everything so the session starts from an empty database and runs the migrations."""
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    """The test database with every Alembic migration applied (this tests them too)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import MIGRATIONS_DIR

    _reset_database(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        from app.database import db

        db.engine.dispose()
    return database_url


def _empty_tables(app: Flask) -> None:
    from app.database import db

    with app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app_config(migrated_database: str, emulator: EmulatorServer, tmp_path: Path) -> dict[str, Any]:
    """Settings for a test app talking to the emulator; tests may change them before `app`."""
    return {
        "TESTING": True,
        "DATABASE_URL": migrated_database,
        "SECRET_KEY": "test-secret",
        **emulator_settings(emulator),
        "PLATFORM_RATE_LIMIT": 0,  # no pacing: tests/platform checks it; suites stay quick
        "PLATFORM_TIMEOUT_S": 2.0,
        # Short, so tests of unknown outcomes and second read-backs wait seconds, not 29 s.
        "PLATFORM_INFLIGHT_BOUND_S": 2.0,
        "SYNC_BACKOFF_BASE_S": 0.05,
        "SYNC_BACKOFF_CAP_S": 0.5,
        "SYNC_POLL_S": 0.05,
        "SYNC_CONCURRENCY": 4,
        "PWA_DIST": str(tmp_path / "no-pwa"),
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """A Fieldhand app on an empty database."""
    from app import create_app
    from app.platform.provider import EXTENSION_KEY

    application = create_app(app_config)
    _empty_tables(application)
    yield application
    platform = application.extensions.pop(EXTENSION_KEY, None)
    if platform is not None:
        platform.close()
    _empty_tables(application)


class ApiClient:
    """A test client that sends the CSRF token the way the PWA does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf_token: str | None = None
        self.user: dict[str, Any] | None = None

    def login(self, username: str, password: str) -> TestResponse:
        response = self.client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.csrf_token = response.json["csrf_token"]
            self.user = response.json["user"]
        return response

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.csrf_token:
            merged.setdefault("X-CSRFToken", self.csrf_token)
        return merged

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
        return self.client.post(url, headers=self._headers(headers), **kwargs)

    def put(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
        return self.client.put(url, headers=self._headers(headers), **kwargs)

    def delete(
        self, url: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> TestResponse:
        return self.client.delete(url, headers=self._headers(headers), **kwargs)


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Create a user: make_user("tech1", "technician")."""
    from app.services.accounts import create_user

    def _make(username: str, role: str = "technician", password: str = PASSWORD) -> Any:
        with app.app_context():
            user = create_user(username, password, role, display_name=username.title())
            return user.id

    return _make


@pytest.fixture
def login(app: Flask, make_user: Callable[..., Any]) -> Callable[..., ApiClient]:
    """Sign in a fresh user of a role and return its API client: login("supervisor")."""
    counter = {"n": 0}

    def _login(role: str = "technician", username: str | None = None) -> ApiClient:
        counter["n"] += 1
        name = username or f"{role}{counter['n']}"
        make_user(name, role)
        api = ApiClient(app.test_client())
        response = api.login(name, PASSWORD)
        assert response.status_code == 200, response.json
        return api

    return _login


@pytest.fixture
def run_worker(app: Flask) -> Callable[..., SyncWorker]:
    """Run a sync worker in this process until nothing is left to send."""

    def _run(**overrides: Any) -> SyncWorker:
        settings = WorkerSettings.from_config(app.config)
        for key, value in overrides.items():
            setattr(settings, key, value)
        worker = SyncWorker(app, settings)
        worker.run(until_idle=True)
        return worker

    return _run
