"""One platform client per app, created lazily from settings and swappable in tests.

PLATFORM names the adapter (thingsee by default); each adapter module declares its profile
(name, capabilities, device id) and builds itself from the PLATFORM_* settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, has_app_context

from app.platform import thingscale, thingsee, thingshub, thingsmatrix
from app.platform.capabilities import PlatformProfile
from app.platform.interface import Platform

EXTENSION_KEY = "fieldhand.platform"
DEFAULT_PLATFORM = "thingsee"

_ADAPTERS: dict[str, tuple[PlatformProfile, Callable[[Mapping[str, Any]], Platform]]] = {
    module.PROFILE.key: (module.PROFILE, factory)
    for module, factory in (
        (thingsee, thingsee.ThingseeClient.from_config),
        (thingsmatrix, thingsmatrix.ThingsMatrixClient.from_config),
        (thingscale, thingscale.ThingScaleClient.from_config),
        (thingshub, thingshub.ThingsHubClient.from_config),
    )
}
PLATFORM_KEYS = tuple(_ADAPTERS)


def profile_for(key: object) -> PlatformProfile:
    """Return the profile of a PLATFORM setting value, or raise ValueError naming the choices."""
    name = str(key or DEFAULT_PLATFORM).strip().lower()
    if name not in _ADAPTERS:
        raise ValueError(f"unknown PLATFORM {key!r}; use one of {', '.join(PLATFORM_KEYS)}")
    return _ADAPTERS[name][0]


def current_profile() -> PlatformProfile:
    """Return the current app's platform profile (Thingsee outside an app context)."""
    if not has_app_context():
        return profile_for(DEFAULT_PLATFORM)
    return profile_for(current_app.config.get("PLATFORM"))


def build_platform(config: Mapping[str, Any]) -> Platform:
    """Create the adapter the PLATFORM setting names, from its PLATFORM_* settings."""
    profile = profile_for(config.get("PLATFORM"))
    return _ADAPTERS[profile.key][1](config)


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
