"""What a test needs to know about the emulated platform it runs against.

Tests marked `all_platforms` run once per platform (tests/conftest.py's `platform_name`); they
ask `emulated` for what differs: a group's id (ThingsMatrix makes its own ids, ThingScale's are
channel numbers, thingsHub has no groups), an id no device has, what an untouched device's
status reads as, whether tokens are ever refreshed, and a label the platform prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.server import EmulatorServer

PLATFORMS = ("thingsee", "thingsmatrix", "thingscale", "thingshub")
UNASSIGNED = "unassigned"

_UNKNOWN_DEVICE = {
    "thingsee": "TSPR04ZZZZZZZZZZZ",
    "thingsmatrix": "ZZ-0000-0000",
    "thingscale": "ZZZZ0000",
    "thingshub": "FFFFFFFFFFFFFFFF",
}


def emulator_settings(server: EmulatorServer) -> dict[str, Any]:
    """The PLATFORM_* settings that point an app at an emulator of any platform."""
    return {
        "PLATFORM": server.platform,
        "PLATFORM_URL": server.base_url,
        "PLATFORM_CLIENT_ID": server.client_id,
        "PLATFORM_CLIENT_SECRET": server.client_secret,
        "PLATFORM_API_KEY": server.client_secret if server.platform == "thingscale" else None,
    }


@dataclass
class EmulatedPlatform:
    server: EmulatorServer
    _channels: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.server.platform

    @property
    def has_groups(self) -> bool:
        return self.name != "thingshub"

    @property
    def refreshes_tokens(self) -> bool:
        """False for ThingScale: its API token is fixed and never fetched."""
        return self.name != "thingscale"

    @property
    def fresh_status(self) -> str | None:
        """What an untouched device's status reads as (None: the platform has no status yet)."""
        return "new" if self.name in ("thingsee", "thingscale") else None

    @property
    def unknown_device(self) -> str:
        """A well-formed id that no device has."""
        return _UNKNOWN_DEVICE[self.name]

    @property
    def missing_group(self) -> str:
        """A well-formed group id that no group has."""
        return "999" if self.name == "thingscale" else "prfi00nosuchgroup"

    def require_groups(self) -> None:
        """Skip the test on a platform without deployment groups."""
        if not self.has_groups:
            pytest.skip(f"{self.name} has no deployment groups")

    def group(self, name: str) -> str:
        """Create a group called `name` on the emulator; return the id the platform gave it."""
        state: Any = self.server.state
        if self.name == "thingsee":
            state.create_group(name)
            return name
        if self.name == "thingsmatrix":
            return str(state.create_named_group(name, None))
        if self.name == "thingscale":
            channel = self._channels.setdefault(name, str(11 + len(self._channels)))
            state.create_group(channel, name)
            return channel
        return UNASSIGNED  # no groups: every device stays unassigned

    def label(self, device_id: str) -> str:
        """Return label text the platform's devices carry for this id."""
        if self.name == "thingsee":
            return f"{device_id[6:]},{device_id[:6]}"  # legacy PSN,IMC
        if self.name == "thingsmatrix":
            return f"SN:{device_id};IMEI:860000000000000"
        if self.name == "thingscale":
            return json.dumps({"device_id": device_id, "model": "Xbee Pro"})
        return f"LW:D0:70B3D57ED0000000:{device_id}:AABB1122"
