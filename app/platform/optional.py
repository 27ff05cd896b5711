"""The Platform calls that depend on a capability, as a platform without them answers.

An adapter inherits these and overrides what its platform has. A platform without deployment
groups keeps every device `unassigned`: reading a group says so, "moving" a device to
`unassigned` is already done, and no group can be listed, created or joined. Everything else
raises NotSupported, which the sync worker treats like any refusal that retrying cannot fix.
"""

from __future__ import annotations

from typing import Any

from app.platform.errors import NotSupported
from app.platform.interface import UNASSIGNED, Group, InstallationRecord, ThingAlerts


class OptionalCalls:
    """NotSupported (or the no-groups answer) for every call a capability flag covers."""

    def _unsupported(self, what: str) -> NotSupported:
        # HttpPlatform's version names the platform; it comes first in an adapter's bases.
        return NotSupported(f"this platform has no {what}")

    def get_installations(self, tuid: str, limit: int = 1) -> list[InstallationRecord]:
        """Refuse: this platform keeps no installation history."""
        raise self._unsupported("installation history")

    def get_group(self, tuid: str) -> str:
        """Return `unassigned`: without groups, no device is in one."""
        return UNASSIGNED

    def set_group(self, tuid: str, group_id: str) -> str:
        """Accept `unassigned` (nothing to do); refuse any real group."""
        if group_id == UNASSIGNED:
            return UNASSIGNED
        raise self._unsupported("deployment groups")

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[Group]:
        """Return no groups."""
        return []

    def create_group(self, group_id: str, description: str | None = None) -> Group:
        """Refuse: groups cannot be created here."""
        raise self._unsupported("way to create deployment groups")

    def rename_group(self, group_id: str, new_group_id: str) -> str:
        """Refuse: groups cannot be renamed here."""
        raise self._unsupported("way to rename deployment groups")

    def delete_group(self, group_id: str) -> None:
        """Refuse: groups cannot be deleted here."""
        raise self._unsupported("way to delete deployment groups")

    def group_things(self, group_id: str) -> list[str]:
        """Refuse: there are no groups to list."""
        raise self._unsupported("deployment groups")

    def get_messages(
        self,
        tuid: str,
        limit: int,
        *,
        message_ids: list[int] | None = None,
        event_ids: list[int] | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[dict[str, Any]]:
        """Refuse: device messages are not available here."""
        raise self._unsupported("device messages")

    def get_commands(self, tuid: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Refuse: device commands are not available here."""
        raise self._unsupported("device commands")

    def send_commands(self, tuid: str, commands: list[dict[str, Any]]) -> dict[str, Any]:
        """Refuse: device commands are not available here."""
        raise self._unsupported("device commands")

    def alerting_tuids(self) -> list[str]:
        """Refuse: alerts are not available here."""
        raise self._unsupported("alerts")

    def alert_count(self) -> int:
        """Refuse: alerts are not available here."""
        raise self._unsupported("alerts")

    def thing_alerts(
        self, tuid: str, since: int | None = None, until: int | None = None
    ) -> list[ThingAlerts]:
        """Refuse: alerts are not available here."""
        raise self._unsupported("alerts")
