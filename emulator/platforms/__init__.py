"""The emulator's other platforms: ThingsMatrix 2.3, ThingScale 2.0 and thingsHub v3.

Each mode is the Thingsee emulator's state (devices, groups, tokens, clock, faults, rate
limits) behind that platform's own URLs, authentication and error bodies (a `Dialect`), so the
app's adapters can be tested over real HTTP and `FIELDHAND_PLATFORM=<name> make run` needs no
account. `thingsee-emulator --platform <name>` serves one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from ..clock import EmulatorClock
from ..state import EmulatorConfig
from . import thingscale, thingshub, thingsmatrix
from .pipeline import Dialect, PlatformApp
from .state import DeviceIds, PlatformState

THINGSEE = "thingsee"


@dataclass(frozen=True)
class Mode:
    dialect: Dialect
    ids: DeviceIds
    defaults: dict[str, Any]  # EmulatorConfig fields the platform documents (or we assume)
    models: tuple[str, ...] = ()


MODES: dict[str, Mode] = {
    "thingsmatrix": Mode(
        thingsmatrix.DIALECT, thingsmatrix.IDS, {"token_ttl": 1800.0}, thingsmatrix.MODELS
    ),
    "thingscale": Mode(thingscale.DIALECT, thingscale.IDS, {"rate_limit": thingscale.RATE_LIMIT}),
    "thingshub": Mode(thingshub.DIALECT, thingshub.IDS, {"token_ttl": thingshub.SESSION_TTL_S}),
}
PLATFORMS = (THINGSEE, *MODES)


def platform_defaults(platform: str, config: EmulatorConfig) -> EmulatorConfig:
    """Return `config` with the platform's documented defaults (token lifetime, rate limit)."""
    mode = MODES.get(platform)
    return replace(config, **mode.defaults) if mode else config


def platform_info(state: PlatformState, request: Request) -> dict[str, Any]:
    """Describe the mode and its credentials (a sandbox has nothing to hide)."""
    dialect = MODES[state.platform].dialect
    return {
        "platform": state.platform,
        "title": dialect.title,
        "api_prefix": dialect.api_prefix,
        "client_id": state.client_id,
        "api_key": state.api_key,
    }


def rotate_api_key(state: PlatformState, request: Request) -> dict[str, Any]:
    """Reset the API key, as an admin would in the platform's GUI."""
    return {"api_key": state.rotate_api_key()}


def end_sessions(state: PlatformState, request: Request) -> dict[str, Any]:
    """End every session: the tokens issued so far stop working."""
    state.end_sessions()
    return {"ended": True}


CONTROL_ROUTES = Map(
    [
        Rule("/platform", methods=["GET"], endpoint="platform"),
        Rule("/api-key/rotate", methods=["POST"], endpoint="rotate_api_key"),
        Rule("/sessions/end", methods=["POST"], endpoint="end_sessions"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
CONTROL_HANDLERS = {
    "platform": platform_info,
    "rotate_api_key": rotate_api_key,
    "end_sessions": end_sessions,
}


def build_mode(
    platform: str, config: EmulatorConfig, clock: EmulatorClock | None = None
) -> tuple[PlatformState, PlatformApp]:
    """Create the state and WSGI app of one platform mode."""
    mode = MODES[platform]
    state = PlatformState(platform, mode.ids, config, clock, models=mode.models)
    dialect = replace(
        mode.dialect, control_routes=CONTROL_ROUTES, control_handlers=CONTROL_HANDLERS
    )
    return state, PlatformApp(state, dialect)
