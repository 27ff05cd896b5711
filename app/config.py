"""Settings: defaults, overridden by FIELDHAND_* environment variables, then by a test mapping."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

PREFIX = "FIELDHAND_"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated into the instance folder on first start when not set
    "DATABASE_URL": None,  # None means SQLite in the instance folder
    "PLATFORM": "thingsee",  # thingsee | thingsmatrix | thingscale | thingshub
    "PLATFORM_URL": None,  # the platform's API base URL (Thingsee: ending in /prod/v1/)
    "PLATFORM_CLIENT_ID": None,  # Thingsee client id; ThingsMatrix loginName; thingsHub user
    "PLATFORM_CLIENT_SECRET": None,  # its secret or password
    "PLATFORM_API_KEY": None,  # ThingScale API token; ThingsMatrix API key (instead of login)
    "PLATFORM_TIMEOUT_S": 10.0,  # read timeout; never above PLATFORM_INFLIGHT_BOUND_S
    # A write may still land this long after it was sent (API Gateway's integration timeout):
    # an unknown outcome is checked, and a device read back, only once it has passed.
    "PLATFORM_INFLIGHT_BOUND_S": 29.0,
    "PLATFORM_TOKEN_TTL_S": None,  # None: the platform's own (Thingsee 900 s)
    "PLATFORM_RATE_LIMIT": None,  # requests/s the client keeps under; None: documented limit
    "PLATFORM_TOKEN_MARGIN_S": 60.0,  # refresh a token this long before its lifetime ends
    "PLATFORM_MAX_RETRIES": 2,  # retries of a failed GET inside one client call
    "SYNC_IN_PROCESS": False,  # run a sync worker thread inside the web process
    "SYNC_CONCURRENCY": 16,
    "SYNC_LEASE_S": 60.0,
    "SYNC_POLL_S": 0.5,
    "SYNC_BACKOFF_BASE_S": 1.0,
    "SYNC_BACKOFF_CAP_S": 300.0,
    "SYNC_MAX_ATTEMPTS": 0,  # 0 = retry transient failures forever; the inbox shows them anyway
    # Install verification: how long a newly installed device has to report (gateways report as
    # hourly heartbeats: longer), and how often to look meanwhile (app.verification.watch).
    "VERIFY_WINDOW_S": 1800.0,
    "VERIFY_GATEWAY_WINDOW_S": 21600.0,
    "VERIFY_POLL_S": 300.0,
    "OPERATIONS_BATCH_MAX": 500,
    "BULK_MAX_DEVICES": 50_000,
    "BULK_PREVIEW_CONCURRENCY": 16,  # platform reads in parallel during a bulk dry run
    "UPLOAD_MAX_BYTES": 20 * 1024 * 1024,  # a photo or CSV upload (multipart)
    # A JSON body: room for a bulk list of BULK_MAX_DEVICES label texts, no more.
    "JSON_MAX_BYTES": 4 * 1024 * 1024,
    "JSON_MAX_DEPTH": 32,  # arrays and objects inside each other (an operation needs 3)
    "QUERY_MAX_PARAMS": 100,  # query parameters in one request, repeats counted
    "LABEL_DECODE_SLOTS": 2,  # label photos decoded at once per process (memory and a core each)
    "LABEL_DECODE_WAIT_S": 3.0,  # how long a photo waits for a slot before a 503
    "LABEL_DECODE_MAX_BYTES": 64 * 1024 * 1024,  # largest decoded image (w x h x bytes a pixel)
    "LOGIN_RATE_LIMIT": "10 per minute",
    "TECHNICIANS_CREATE_GROUPS": False,  # technicians may create deployment groups (on site)
    # A sign-in lasts until it is ended (sign out, password change, "sign out everywhere") or
    # this many days: a phone offline for a whole shift keeps its session.
    # Where the login limit counts (shared by every worker): Redis at this URL, e.g.
    # redis://127.0.0.1:6379/0; when unset, the application database.
    "REDIS_URL": None,
    "SESSION_MAX_DAYS": 365,
    "SECURE_COOKIES": False,  # mark the session and remember cookies Secure (serve over https)
    # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port are believed; 0
    # ignores those headers (anyone could send them). Also what the login limit counts by.
    "TRUSTED_PROXIES": 0,
    "PWA_DIST": None,  # folder of the built PWA; default pwa/dist beside the package
}


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if raw.startswith(("{", "[")):
        return json.loads(raw)
    return raw


def load_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, then FIELDHAND_* variables, then overrides."""
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(PREFIX + key)
        if raw is not None and raw != "":
            settings[key] = _coerce(raw, default)
    if overrides:
        settings.update(overrides)
    return settings


def _secret_key(instance_path: Path) -> str:
    """Return the session secret kept in the instance folder, creating it on first start."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def apply_settings(app: Flask, settings: dict[str, Any]) -> None:
    """Copy settings into app.config, deriving the database URL and secrets."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config["FIELDHAND"] = settings
    for key, value in settings.items():
        app.config[key] = value
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or _secret_key(instance)
    url = settings["DATABASE_URL"] or f"sqlite:///{instance / 'fieldhand.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    engine_options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options)
    app.config["MAX_CONTENT_LENGTH"] = settings["UPLOAD_MAX_BYTES"]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(settings["SECURE_COOKIES"])
    app.config["REMEMBER_COOKIE_SECURE"] = bool(settings["SECURE_COOKIES"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=settings["SESSION_MAX_DAYS"])
    # The PWA reads the token from /api/auth/me and sends it as X-CSRFToken on every write;
    # the token must outlive a long offline shift, so it lives as long as the session.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    app.config["WTF_CSRF_HEADERS"] = ["X-CSRFToken", "X-CSRF-Token"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "fieldhand-database://"
    app.config["RATELIMIT_KEY_PREFIX"] = "fieldhand"  # a Redis shared with other apps
