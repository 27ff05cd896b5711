"""What a step overwrote on the platform, for an undo when the phone did not know it.

An undo restores the status and group a device had before an action. The phone records what
it saw (`seen`), but a technician scanning offline, or in batch mode, acts on devices whose
state the phone never loaded. For those steps the worker reads the platform's value just
before writing it, and the recorder keeps it on the step (`outbox.overwrote`); app.services.undo
restores it. A step the phone's `seen` already covers costs no extra call.

Only a first write is noted: once an earlier attempt may have landed (`verify_first`, a late
write possible) the platform may already hold the new value, which is not what was overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from app.models.operations import Operation, OutboxStep
from app.platform import errors
from app.platform.interface import Platform
from app.sync.step_runner import ClaimedStep, StepOutcome, run_step

_STEPS = OutboxStep.__table__
_NOTE = (
    _STEPS.update()
    .where(_STEPS.c.id == bindparam("b_id"), _STEPS.c.overwrote.is_(None))
    .values(overwrote=bindparam("b_value"))
)


@dataclass(frozen=True)
class NotedOutcome:
    """A step's outcome and the platform's value just before its write (None: not read)."""

    outcome: StepOutcome
    overwrote: str | None


def steps_to_note(session: Session, steps: Iterable[ClaimedStep]) -> set[int]:
    """Return the ids of these steps whose operation's phone did not see the value they write."""
    first_writes = [
        s.id
        for s in steps
        if s.action in ("set_status", "set_group")
        and not s.verify_first
        and not s.late_write_possible
    ]
    if not first_writes:
        return set()
    unseen = or_(
        and_(OutboxStep.action == "set_status", Operation.seen_status.is_(None)),
        and_(OutboxStep.action == "set_group", Operation.seen_group.is_(None)),
    )
    return set(
        session.scalars(
            select(OutboxStep.id)
            .join(Operation, Operation.id == OutboxStep.operation_id)
            .where(OutboxStep.id.in_(first_writes), OutboxStep.overwrote.is_(None), unseen)
        )
    )


def run_step_noting_overwritten(platform: Platform, step: ClaimedStep) -> NotedOutcome:
    """Read the value the step is about to overwrite, then run the step (a failed read only
    means the undo will not know it: the technician's action goes ahead regardless)."""
    before: str | None = None
    try:
        if step.action == "set_status":
            before = platform.get_installation_status(step.tuid)
        else:
            before = platform.get_group(step.tuid)
    except errors.PlatformError:
        before = None
    return NotedOutcome(run_step(platform, step), before)


def record_overwritten(session: Session, values: Mapping[int, str]) -> None:
    """Keep each step's overwritten value (the caller commits; a step keeps its first one)."""
    if values:
        session.connection().execute(
            _NOTE, [{"b_id": step_id, "b_value": values[step_id]} for step_id in sorted(values)]
        )
