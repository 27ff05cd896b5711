"""The SQLAlchemy handle: declarative base, UTC datetime type and the Flask-SQLAlchemy object."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TableClause, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def insert_on_conflict(table: TableClause, dialect: str) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that takes ON CONFLICT: SQLite and PostgreSQL spell the clause alike, but
    SQLAlchemy builds it only on each dialect's own insert."""
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


# Constraint names follow NAMING_CONVENTION so Alembic migrations name them stably.
db = SQLAlchemy(model_class=Base)


# PostgreSQL SQLSTATE classes that say "run the transaction again": 40 (serialization failure,
# deadlock), 08 (connection exception), 57P (the server is shutting down or restarting).
_TRANSIENT_SQLSTATE_PREFIXES = ("40", "08", "57P")


def is_transient_error(exc: BaseException) -> bool:
    """Say whether a database error goes away by rolling back and running the work again."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    # SQLite's "database is locked" and a dropped psycopg connection carry no SQLSTATE.
    return isinstance(exc, OperationalError)
