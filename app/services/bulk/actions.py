"""What a bulk job does to each device: retire, quarantine, uninstall, or move to a group."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import Unprocessable
from app.services.bulk.reading import Reading
from app.services.operation_rules import (
    InvalidOperation,
    normalise_group,
    platform_without_groups,
)

# What each bulk action does to a device.
STATUS_ACTIONS = {"retire": "retired", "quarantine": "quarantine", "uninstall": "uninstalled"}
ACTIONS = (*STATUS_ACTIONS, "move")


@dataclass(frozen=True)
class JobAction:
    action: str
    target_group: str | None

    @property
    def kind(self) -> str:
        return "set_group" if self.action == "move" else "set_status"

    @property
    def target(self) -> str:
        if self.action == "move":
            assert self.target_group is not None
            return self.target_group
        return STATUS_ACTIONS[self.action]

    @property
    def args(self) -> dict[str, str]:
        if self.action == "move":
            return {"group_id": self.target}
        return {"status": self.target}

    def current(self, reading: Reading) -> str | None:
        return reading.group if self.action == "move" else reading.status


def job_action(action: str, target_group: str | None) -> JobAction:
    """Validate a bulk action and its target group."""
    if action not in ACTIONS:
        raise Unprocessable(f"Unknown bulk action '{action}'; use one of {', '.join(ACTIONS)}.")
    if action != "move":
        return JobAction(action, None)
    no_groups = platform_without_groups()
    if no_groups:
        raise Unprocessable(f"{no_groups} has no deployment groups: devices cannot be moved.")
    if not target_group:
        raise Unprocessable("Moving devices needs a target group.", {"field": "target_group"})
    try:
        return JobAction(action, normalise_group(target_group))
    except InvalidOperation as exc:
        raise Unprocessable(str(exc), {"field": "target_group"}) from exc
