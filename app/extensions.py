"""Flask extension singletons, bound to an app in create_app."""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from sqlalchemy import event

from app import rate_limit_storage  # noqa: F401 (registers the fieldhand-database scheme)
from app.database import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Storage from RATELIMIT_STORAGE_URI (config.py): Redis, or the database via this import.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the sync worker write while the web process reads; NORMAL is durable in WAL mode.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _private_sqlite_file(path: str | None) -> None:
    """Create the SQLite file readable by its owner only (it holds password hashes), or narrow
    an existing one; SQLite gives its -wal and -shm files the same permissions."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    if not file.parent.is_dir():
        return  # SQLite says what is wrong on the first connection
    if not file.exists():
        os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))
    if file.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # someone else's file: the owner decides
            file.chmod(0o600)


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    importlib.import_module("app.models")  # registers every table for Alembic

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _private_sqlite_file(db.engine.url.database)
            event.listen(db.engine, "connect", _sqlite_pragmas)
