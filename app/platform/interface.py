"""What Fieldhand needs from an IoT platform, independent of any vendor's URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from app.platform.capabilities import Capabilities

INSTALLATION_STATUSES = ("new", "installed", "uninstalled", "quarantine", "retired")
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class InstallationRecord:
    tuid: str
    installation_status: str
    timestamp: int | None = None  # Unix seconds, platform time
    responsible: str | None = None


@dataclass(frozen=True)
class Group:
    group_id: str
    description: str | None = None


@dataclass(frozen=True)
class ThingInfo:
    tuid: str
    battery_level: int | None = None
    timestamp: int | None = None  # latest event, Unix seconds
    lat: float | None = None
    lon: float | None = None
    gateway_tuid: str | None = None
    version: str | None = None
    online: bool | None = None  # platforms with a live online flag instead of a latest event
    model: str | None = None  # the platform's own name for the device's type or model
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ThingAlerts:
    tuid: str
    alert_type: str
    periods: list[tuple[str, str | None]]  # (from, to) ISO strings, to=None while open


class Platform(Protocol):
    """Operations on devices and deployment groups. Raises app.platform.errors.*.

    Every adapter reads and sets installation statuses and reads devices; the rest depends on
    `capabilities`, and a call the platform has no equivalent of raises NotSupported.
    """

    @property
    def capabilities(self) -> Capabilities: ...

    def get_thing(self, tuid: str) -> ThingInfo: ...

    def get_installations(self, tuid: str, limit: int = 1) -> list[InstallationRecord]: ...

    def get_installation_status(self, tuid: str) -> str | None: ...

    def set_installation_status(self, tuid: str, status: str) -> InstallationRecord: ...

    def get_group(self, tuid: str) -> str: ...

    def set_group(self, tuid: str, group_id: str) -> str: ...

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[Group]: ...

    def create_group(self, group_id: str, description: str | None = None) -> Group: ...

    def rename_group(self, group_id: str, new_group_id: str) -> str: ...

    def delete_group(self, group_id: str) -> None: ...

    def group_things(self, group_id: str) -> list[str]: ...

    def get_messages(
        self,
        tuid: str,
        limit: int,
        *,
        message_ids: list[int] | None = None,
        event_ids: list[int] | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[dict[str, Any]]: ...

    def get_commands(self, tuid: str, limit: int | None = None) -> list[dict[str, Any]]: ...

    def send_commands(self, tuid: str, commands: list[dict[str, Any]]) -> dict[str, Any]: ...

    def alerting_tuids(self) -> list[str]: ...

    def alert_count(self) -> int: ...

    def thing_alerts(
        self, tuid: str, since: int | None = None, until: int | None = None
    ) -> list[ThingAlerts]: ...

    def token_requests(self) -> int:
        """How many tokens this client has requested (for benchmarks and tests)."""
        ...

    def close(self) -> None: ...
