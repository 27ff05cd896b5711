"""One platform client per app, created lazily from settings and swappable in tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from app.platform.interface import Platform

EXTENSION_KEY = "fieldhand.platform"


def inflight_bound(config: Mapping[str, Any]) -> float:
    """Return how long after it was sent a write may still land (PLATFORM_INFLIGHT_BOUND_S)."""
    return max(float(config.get("PLATFORM_INFLIGHT_BOUND_S") or 0.0), 0.0)


def build_platform(config: dict[str, object]) -> Platform:
    """Create the configured platform adapter (only Thingsee today)."""
    from app.platform.thingsee import ThingseeClient

    return ThingseeClient.from_config(config)


def platform_for(app: Flask) -> Platform:
    """Return the app's shared platform client, creating it on first use."""
    platform = app.extensions.get(EXTENSION_KEY)
    if platform is None:
        platform = build_platform(app.config)
        app.extensions[EXTENSION_KEY] = platform
    return platform


def current_platform() -> Platform:
    """Return the platform client of the current app."""
    return platform_for(current_app._get_current_object())  # type: ignore[attr-defined]
