"""What a platform can do, declared by each adapter so callers ask before they call.

The sync worker, bulk jobs and the API keep working on every platform because they only use
what every adapter has (read and set a device's installation status, read a device). Everything
else is a capability: an adapter without it raises `NotSupported`, and the PWA and console read
the same flags from /api/platform to hide or explain what the platform cannot do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a platform has beyond reading devices and their installation status (none: False)."""

    installation_history: bool = False  # the platform keeps each device's past statuses
    deployment_groups: bool = False  # a device sits in one group: read it, move it, list groups
    group_create: bool = False
    group_rename: bool = False
    group_delete: bool = False
    last_seen: bool = False  # the time of the device's latest message (a device check)
    online_status: bool = False  # a live online/offline flag (a device check)
    battery_level: bool = False
    messages: bool = False  # the device's recent messages
    commands: bool = False  # configuration commands to the device
    alerts: bool = False  # open alerts per device

    def to_dict(self) -> dict[str, bool]:
        """Return the flags as the API serialises them."""
        return asdict(self)


@dataclass(frozen=True)
class DeviceIdRule:
    """How the platform names a device, for labels, typing and messages."""

    name: str  # what the field is called on this platform, e.g. "TUID", "sn"
    description: str  # one sentence a technician understands
    example: str
    max_length: int


@dataclass(frozen=True)
class PlatformProfile:
    """A platform adapter's identity: its setting value, its name, what it can do."""

    key: str  # the PLATFORM setting value
    title: str
    capabilities: Capabilities
    device_id: DeviceIdRule
    token_ttl: float = 900.0  # seconds a token lives when the platform does not say
    rate_limit: float = 0.0  # documented requests per second; 0: none documented

    def to_dict(self) -> dict[str, object]:
        """Return the profile as GET /api/platform shows it."""
        return {
            "key": self.key,
            "title": self.title,
            "capabilities": self.capabilities.to_dict(),
            "device_id": asdict(self.device_id),
            "rate_limit": self.rate_limit,
        }
