"""The rules of an action: its steps, its place in the device's order, whether it is held, and
what it makes true on the device.

Ingest, bulk confirm, the inbox (and any new way to make an action) ask this module; the rows
are written by app.services.operation_writer. A new rule about held actions is a change here:
`SentActions` loads, set-wise, what the rules need to know of the devices, and `hold` decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select

from app.database import db
from app.labels.device_ids import normalise_device_id
from app.labels.parser import LabelError
from app.models.operations import SENT_STEP_STATES, OutboxStep
from app.platform.interface import INSTALLATION_STATUSES, UNASSIGNED
from app.platform.provider import current_profile
from app.sync.device_cache import DEVICE_COLUMNS

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


# A phone clock this far ahead of ours is wrong; order its actions by arrival instead.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)
OUT_OF_ORDER = "out_of_order"


def order_at(device_time: datetime, now: datetime) -> datetime:
    """Return when the action takes its place in the device's order: when it was performed,
    unless the phone's clock is implausibly ahead of ours (then when it arrived)."""
    return device_time if device_time <= now + CLOCK_SKEW_TOLERANCE else now


class PlannedAction(Protocol):
    """What the rules read of a new action."""

    @property
    def steps(self) -> Sequence[PlannedStep]: ...
    @property
    def bulk_job_id(self) -> int | None: ...


@dataclass(frozen=True)
class Hold:
    """Why an action is kept from the platform until a supervisor decides (state `conflict`)."""

    code: str
    message: str


def held_message(newest_sent: datetime, what: str) -> str:
    """Why an action was held as a conflict instead of sent (shown in the supervisor's inbox)."""
    return (
        "A later action on this device reached the platform first "
        f"(performed {newest_sent.isoformat(timespec='seconds')}). This {what} was held so it "
        "does not undo it; a supervisor can apply or discard it."
    )


@dataclass(frozen=True)
class SentActions:
    """Per device, the latest place in the order already sent (or being sent) to the platform."""

    newest: dict[str, datetime]

    @classmethod
    def load(cls, tuids: Iterable[str], *, excluding_operation: int | None = None) -> SentActions:
        """Read, in one query, what was sent for these devices (but for one operation's steps)."""
        tuids = set(tuids)
        if not tuids:
            return cls({})
        query = select(OutboxStep.tuid, func.max(OutboxStep.order_at)).where(
            OutboxStep.tuid.in_(tuids), OutboxStep.state.in_(SENT_STEP_STATES)
        )
        if excluding_operation is not None:
            query = query.where(OutboxStep.operation_id != excluding_operation)
        return cls(
            {tuid: newest for tuid, newest in db.session.execute(query.group_by(OutboxStep.tuid))}
        )

    @classmethod
    def for_actions(cls, actions: Iterable[PlannedAction]) -> SentActions:
        """Read what was sent for every device these actions touch."""
        return cls.load({step.tuid for action in actions for step in action.steps})

    def newer_than(self, steps: Iterable[Any], at: datetime) -> list[datetime]:
        """The sent places later than `at` on the steps' devices."""
        return [self.newest[s.tuid] for s in steps if self.newest.get(s.tuid, at) > at]

    def hold(self, action: PlannedAction, at: datetime) -> Hold | None:
        """Hold an action placed at `at` when a later one on one of its devices was already
        sent: sending it now would undo the later one."""
        later = self.newer_than(action.steps, at)
        if not later:
            return None
        what = "bulk action" if action.bulk_job_id is not None else "older action"
        return Hold(OUT_OF_ORDER, held_message(max(later), what))


def goes_after_sent(operation_id: int, in_conflict: bool, steps: Sequence[Any]) -> bool:
    """Say whether steps sent again must go after what was sent meanwhile (order_at = now).

    A conflicting action is applied after the newer ones; a failed one keeps its place unless
    something newer on its devices was already sent, so it cannot be overtaken half-way.
    """
    if in_conflict:
        return True
    sent = SentActions.load({s.tuid for s in steps}, excluding_operation=operation_id)
    return any(sent.newer_than([s], s.order_at) for s in steps)


def intended_values(steps: Iterable[PlannedStep]) -> dict[str, dict[str, str | None]]:
    """Fold what these steps will make true into per-device values (later steps win).

    A copy_group's group is known only once the platform was read, so it adds nothing here.
    """
    values: dict[str, dict[str, str | None]] = {}
    for step in steps:
        if step.action != "copy_group":
            values.setdefault(step.tuid, {})[DEVICE_COLUMNS[step.action]] = step.value
    return values
