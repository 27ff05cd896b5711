"""Undo: the inverse of a technician's newest action on a device, as an operation of its own.

An undo names the operation it undoes (`args.undoes`); the server decides what it restores
from what it recorded: the status and group the original's technician saw before acting (the
operation's `seen`), or, where the phone did not know them, the values its steps overwrote on
the platform (read by the sync worker just before writing, app.sync.overwritten), or what the
device's previous action made them. Only the values the original changed are restored, so
undoing a move does not write the installation status again (each status write is an entry in
the platform's history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.database import db
from app.models.operations import DISCARDED, SENT_STEP_STATES, Operation
from app.models.users import User
from app.platform.interface import UNASSIGNED
from app.services.operation_rules import InvalidOperation, PlannedStep, intended_values
from app.services.timeline import operations_touching

UNDO = "undo"
SUPERVISING_ROLES = ("supervisor", "admin")


class UndoRefused(InvalidOperation):
    """The undo cannot be applied as asked (HTTP 409 when it is a request's only operation)."""

    code = "undo_refused"


class UndoBeforeSync(UndoRefused):
    """The phone did not know the device's earlier state and the action has not reached the
    platform yet: the worker learns that state when it sends the action."""

    code = "undo_before_sync"


class UndoStateUnknown(UndoRefused):
    """Nothing recorded the device's state before the action: there is nothing to restore."""

    code = "undo_state_unknown"


# The column a step writes, as undo args name it.
_COLUMN = {"set_status": "status", "set_group": "group_id"}


@dataclass(frozen=True)
class UndoTarget:
    """What an undo needs to know about the operation it undoes."""

    op_id: str
    kind: str
    tuid: str
    user_id: int
    device_time: datetime
    seen_status: str | None
    seen_group: str | None
    steps: tuple[PlannedStep, ...]
    # Per column: the platform's value just before the action's step wrote it (when read).
    overwrote: tuple[tuple[str, str], ...] = ()
    # The columns whose steps have not reached the platform yet.
    unsent: frozenset[str] = frozenset(_COLUMN.values())


@dataclass(frozen=True)
class UndoRequest:
    tuid: str
    args: dict[str, Any]
    device_time: datetime


def _target_of(op: Operation) -> UndoTarget:
    own = [s for s in op.steps if s.tuid == op.tuid and s.action in _COLUMN]
    return UndoTarget(
        op_id=op.op_id,
        kind=op.kind,
        tuid=op.tuid,
        user_id=op.user_id,
        device_time=op.device_time,
        seen_status=op.seen_status,
        seen_group=op.seen_group,
        steps=tuple(PlannedStep(s.tuid, s.action, s.value or "") for s in op.steps),
        overwrote=tuple((_COLUMN[s.action], s.overwrote) for s in own if s.overwrote is not None),
        unsent=frozenset(_COLUMN[s.action] for s in own if s.state not in SENT_STEP_STATES),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _device_actions(tuid: str) -> list[UndoTarget]:
    """Every stored action on the device that was not discarded, oldest first."""
    ops = db.session.scalars(
        select(Operation)
        .where(Operation.id.in_(operations_touching(tuid)), Operation.state != DISCARDED)
        .order_by(Operation.device_time, Operation.id)
    )
    return [_target_of(op) for op in ops]


def _result_of(action: UndoTarget, tuid: str) -> dict[str, str | None]:
    """What an action made the device's status and group (only the values it wrote)."""
    return intended_values(action.steps).get(tuid, {})


def _before(target: UndoTarget, earlier: list[UndoTarget]) -> dict[str, str | None]:
    """The device's status and group before the target, as recorded: what its technician saw,
    else what its steps overwrote on the platform, else what the previous actions made them."""
    overwrote = dict(target.overwrote)
    status = target.seen_status if target.seen_status is not None else overwrote.get("status")
    group = target.seen_group if target.seen_group is not None else overwrote.get("group_id")
    for action in reversed(earlier):
        if status is not None and group is not None:
            break
        made = _result_of(action, target.tuid)
        status = status if status is not None else made.get("status")
        group = group if group is not None else made.get("group_id")
    return {"status": status, "group_id": group}


def plan_undo(
    request: UndoRequest, user: User, batch: list[UndoTarget]
) -> tuple[dict[str, Any], list[PlannedStep]]:
    """Return the undo's normalised args and its steps, or raise UndoRefused / InvalidOperation.

    `batch` holds the other operations of the same request, so an undo sent together with the
    action it undoes (both queued offline) finds it.
    """
    undoes = str(request.args.get("undoes") or "")
    if not undoes:
        raise InvalidOperation("args.undoes: name the op_id of the action to undo.")
    actions = _device_actions(request.tuid)
    stored = {a.op_id for a in actions}
    actions += [
        a
        for a in batch
        if a.op_id not in stored
        and a.device_time < request.device_time
        and any(s.tuid == request.tuid for s in a.steps)
    ]
    actions.sort(key=lambda a: _aware(a.device_time))
    index = next((i for i, a in enumerate(actions) if a.op_id == undoes), None)
    if index is None:
        raise UndoRefused(
            f"There is no action {undoes} on {request.tuid} to undo (it may have been discarded)."
        )
    target = actions[index]
    if target.user_id != user.id and user.role not in SUPERVISING_ROLES:
        raise UndoRefused("Only the technician who did this action or a supervisor can undo it.")
    if index != len(actions) - 1:
        raise UndoRefused(
            "Only the newest action on a device can be undone: this device has been acted on "
            "since. Scan it and choose the action it needs."
        )
    if target.kind == "replace":
        raise UndoRefused(
            "A replacement cannot be undone in one step: remove the new device and install "
            "the old one again."
        )
    changed = _result_of(target, request.tuid)
    before = _before(target, actions[:index])
    unknown = [key for key in changed if before[key] is None]
    if unknown:
        what = " and ".join("status" if k == "status" else "group" for k in unknown)
        if any(key in target.unsent for key in unknown):
            raise UndoBeforeSync(
                f"The phone did not know this device's {what} before the action; Fieldhand "
                "reads it from the platform when it sends the action. Undo again once the "
                "action is synced."
            )
        raise UndoStateUnknown(
            f"Fieldhand did not record this device's {what} before the action, so it cannot "
            "restore it; choose the action it needs."
        )
    args: dict[str, Any] = {"undoes": undoes}
    steps: list[PlannedStep] = []
    status, group = before["status"], before["group_id"]
    if "status" in changed and status is not None:
        args["status"] = status
        steps.append(PlannedStep(request.tuid, "set_status", status))
    if "group_id" in changed and group is not None:
        args["group_id"] = group
        group_step = PlannedStep(request.tuid, "set_group", group)
        # Leave a group before leaving service, join one after entering it (as remove/install).
        steps.insert(0 if group == UNASSIGNED else len(steps), group_step)
    return args, steps
