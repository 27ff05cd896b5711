"""The login limiter's counters in the application database, shared by every worker process.

A storage backend for the `limits` library (which Flask-Limiter uses), registered under the
scheme `fieldhand-database://`. It keeps fixed windows only (Flask-Limiter's default strategy):
one row per limit and client, counted up by one atomic upsert, so several gunicorn workers and
hosts share one count and a restart does not reset it. With FIELDHAND_REDIS_URL set, Redis
holds the counters instead and this module is not used.
"""

from __future__ import annotations

import random
import time
from typing import Any

from flask import has_app_context
from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.database import db
from app.models.rate_limits import RateLimitCounter

SCHEME = "fieldhand-database"
# Expired rows are overwritten when their client comes back; sweep the rest now and then.
SWEEP_CHANCE = 0.01

_table = RateLimitCounter.__table__


class DatabaseStorage(Storage):
    """Fixed-window counters in the `rate_limit_counters` table of the current app's database."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits in the key's window (a new window if it ended); return the count."""
        now = time.time()
        dialect = db.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        live = _table.c.expires_at > now
        statement = (
            insert(_table)
            .values(key=key, count=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[_table.c.key],
                set_={
                    "count": case((live, _table.c.count + amount), else_=amount),
                    "expires_at": case((live, _table.c.expires_at), else_=now + expiry),
                },
            )
            .returning(_table.c.count)
        )
        with db.engine.begin() as connection:  # its own transaction, whatever the request does
            count = int(connection.execute(statement).scalar_one())
            if random.random() < SWEEP_CHANCE:
                connection.execute(delete(_table).where(_table.c.expires_at <= now))
        return count

    def get(self, key: str) -> int:
        """Return the hits counted in the key's current window."""
        with db.engine.connect() as connection:
            count = connection.execute(
                select(_table.c.count).where(_table.c.key == key, _table.c.expires_at > time.time())
            ).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        """Return when the key's window ends (now when there is none)."""
        with db.engine.connect() as connection:
            expires = connection.execute(
                select(_table.c.expires_at).where(_table.c.key == key)
            ).scalar()
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        """Say whether the database answers."""
        if not has_app_context():
            return True  # no app to ask yet; the first request will
        try:
            with db.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter."""
        with db.engine.begin() as connection:
            return int(connection.execute(delete(_table)).rowcount or 0)

    def clear(self, key: str) -> None:
        """Forget one counter."""
        with db.engine.begin() as connection:
            connection.execute(delete(_table).where(_table.c.key == key))
