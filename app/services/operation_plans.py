"""Operation kinds: how each technician action is validated and broken into platform steps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.labels.device_ids import normalise_device_id
from app.labels.parser import LabelError
from app.platform.interface import INSTALLATION_STATUSES, UNASSIGNED
from app.platform.provider import current_profile

GROUP_PATTERN = re.compile(r"^[a-z0-9]{1,64}$")
KINDS = ("set_status", "set_group", "install", "remove", "replace", "undo")
REPLACED_DEVICE_STATUSES = ("uninstalled", "retired")


class InvalidOperation(ValueError):
    """The action's arguments do not make sense; the message says what to fix."""


@dataclass(frozen=True)
class PlannedStep:
    tuid: str
    action: str  # set_status | set_group | copy_group (value = the tuid to copy from)
    value: str


def normalise_tuid(raw: object, field: str = "tuid") -> str:
    """Return the device id (TUID on Thingsee) by the platform's rule, or raise InvalidOperation."""
    try:
        return normalise_device_id(str(raw or ""))
    except LabelError as exc:
        raise InvalidOperation(f"{field} {exc.message}") from None


def normalise_group(raw: object) -> str:
    """Return the deployment group id lowercased, or raise InvalidOperation."""
    group = str(raw or "").strip().lower()
    if group == UNASSIGNED:
        return group
    if not GROUP_PATTERN.match(group):
        raise InvalidOperation(
            f"Deployment group '{raw}' is not valid: use 1 to 64 lowercase letters and digits."
        )
    return group


def _status(raw: object) -> str:
    if raw not in INSTALLATION_STATUSES:
        raise InvalidOperation(
            f"Installation status '{raw}' is not one of {', '.join(INSTALLATION_STATUSES)}."
        )
    return str(raw)


def platform_without_groups() -> str | None:
    """Return the platform's name when it has no deployment groups, else None."""
    profile = current_profile()
    return None if profile.capabilities.deployment_groups else profile.title


def plan_steps(
    kind: str, tuid: str, args: dict[str, Any]
) -> tuple[dict[str, Any], list[PlannedStep]]:
    """Validate args for this kind; return the normalised args and the platform steps in order.

    On a platform without deployment groups the same actions make no group steps: installing
    sets the status (a group sent along is dropped), and moving a device is refused.
    """
    no_groups = platform_without_groups()
    if kind == "set_status":
        status = _status(args.get("status"))
        return {"status": status}, [PlannedStep(tuid, "set_status", status)]
    if kind == "set_group":
        if no_groups:
            raise InvalidOperation(f"{no_groups} has no deployment groups to move a device into.")
        group = normalise_group(args.get("group_id"))
        return {"group_id": group}, [PlannedStep(tuid, "set_group", group)]
    if kind == "install":
        if no_groups:
            return {}, [PlannedStep(tuid, "set_status", "installed")]
        group = normalise_group(args.get("group_id"))
        if group == UNASSIGNED:
            raise InvalidOperation("Pick a deployment group to install the device into.")
        return {"group_id": group}, [
            PlannedStep(tuid, "set_status", "installed"),
            PlannedStep(tuid, "set_group", group),
        ]
    if kind == "remove":
        if no_groups:
            return {}, [PlannedStep(tuid, "set_status", "uninstalled")]
        return {}, [
            PlannedStep(tuid, "set_group", UNASSIGNED),
            PlannedStep(tuid, "set_status", "uninstalled"),
        ]
    if kind == "replace":
        new_tuid = normalise_tuid(args.get("new_tuid"), "new_tuid")
        if new_tuid == tuid:
            raise InvalidOperation("A device cannot replace itself; scan the new device.")
        old_status = args.get("old_status", "uninstalled")
        if old_status not in REPLACED_DEVICE_STATUSES:
            raise InvalidOperation("The replaced device becomes 'uninstalled' or 'retired'.")
        normalised = {"new_tuid": new_tuid, "old_status": old_status}
        if no_groups:
            return normalised, [
                PlannedStep(new_tuid, "set_status", "installed"),
                PlannedStep(tuid, "set_status", old_status),
            ]
        return normalised, [
            PlannedStep(new_tuid, "set_status", "installed"),
            PlannedStep(new_tuid, "copy_group", tuid),
            PlannedStep(tuid, "set_group", UNASSIGNED),
            PlannedStep(tuid, "set_status", old_status),
        ]
    if kind == "undo":
        # The stored form, whose args the server resolved (app.services.undo): what it restores.
        restore: dict[str, Any] = {"undoes": str(args.get("undoes") or "")}
        steps: list[PlannedStep] = []
        if args.get("status") is not None:
            restore["status"] = _status(args.get("status"))
            steps.append(PlannedStep(tuid, "set_status", restore["status"]))
        if args.get("group_id") is not None and not no_groups:
            restore["group_id"] = normalise_group(args.get("group_id"))
            group_step = PlannedStep(tuid, "set_group", restore["group_id"])
            steps.insert(0 if restore["group_id"] == UNASSIGNED else len(steps), group_step)
        if not restore["undoes"] or not steps:
            raise InvalidOperation("An undo names the action it undoes and what it restores.")
        return restore, steps
    raise InvalidOperation(f"Unknown action '{kind}'; use one of {', '.join(KINDS)}.")
