"""The login limit is shared by every worker process and survives a restart (issue #13 row 14):
counted in the database, or in Redis when FIELDHAND_REDIS_URL is set."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def workers(app: Flask, app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Start more app instances on the same database, as gunicorn's workers are."""
    from app import create_app
    from app.database import db

    started: list[Flask] = []

    def _start(**settings: Any) -> Flask:
        worker = create_app({**app_config, "LOGIN_RATE_LIMIT": "3 per minute", **settings})
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        with worker.app_context():
            db.engine.dispose()


def _attempt(worker: Flask, client_ip: str) -> int:
    response = worker.test_client().post(
        "/api/auth/login",
        json={"username": "nobody", "password": "wrong"},
        environ_base={"REMOTE_ADDR": client_ip},
    )
    return response.status_code


def _client_ip() -> str:
    # A fresh address per run: a Redis shared with other test runs holds no count for it.
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def test_workers_share_one_count_in_the_database(workers: Callable[..., Flask]) -> None:
    first, second = workers(), workers()
    ip = _client_ip()
    assert [_attempt(w, ip) for w in (first, second, first)] == [401, 401, 401]
    refused = second.test_client().post(
        "/api/auth/login",
        json={"username": "nobody", "password": "wrong"},
        environ_base={"REMOTE_ADDR": ip},
    )
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0

    restarted = workers()  # a restart does not forget the count
    assert _attempt(restarted, ip) == 429
    assert _attempt(restarted, _client_ip()) == 401  # another client has its own

    from app.database import db
    from app.models.rate_limits import RateLimitCounter

    with restarted.app_context():
        counts = db.session.scalars(select(RateLimitCounter.count)).all()
    assert sorted(counts) == [1, 5]  # every attempt counts, refused ones too


def test_a_new_window_starts_when_the_old_one_ends(workers: Callable[..., Flask]) -> None:
    from app.database import db
    from app.models.rate_limits import RateLimitCounter

    worker = workers()
    ip = _client_ip()
    assert [_attempt(worker, ip) for _ in range(4)] == [401, 401, 401, 429]
    with worker.app_context():
        row = db.session.scalars(select(RateLimitCounter)).one()
        row.expires_at -= 61  # the minute has passed
        db.session.commit()
    assert _attempt(worker, ip) == 401


@pytest.fixture
def redis_client() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield client
    client.close()


def test_workers_share_one_count_in_redis(workers: Callable[..., Flask], redis_client: Any) -> None:
    from app.database import db
    from app.models.rate_limits import RateLimitCounter

    first, second = workers(REDIS_URL=REDIS_URL), workers(REDIS_URL=REDIS_URL)
    ip = _client_ip()
    assert [_attempt(w, ip) for w in (first, second, first, second)] == [401, 401, 401, 429]
    assert _attempt(workers(REDIS_URL=REDIS_URL), ip) == 429  # restarted
    keys = redis_client.keys(f"*/fieldhand/{ip}/*")
    assert [int(redis_client.get(key)) for key in keys] == [5]
    with first.app_context():
        assert db.session.scalars(select(RateLimitCounter)).all() == []  # not the database
    for key in keys:
        redis_client.delete(key)
