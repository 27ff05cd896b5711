"""The dry run's verdict on each input line: will the action change the device, and if not, why.

A device is left alone when the platform already shows the target, unless earlier actions on
it still wait in the outbox: the platform's answer is then out of date and the bulk action is
queued after them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from app.database import db
from app.models.operations import UNFINISHED_STEP_STATES, OutboxStep
from app.services.bulk.actions import JobAction
from app.services.bulk.reading import Reading
from app.services.bulk.targets import TargetLine

CHANGE, ALREADY, UNKNOWN, DUPLICATE, INVALID, ERROR = (
    "change",
    "already",
    "unknown",
    "duplicate",
    "invalid",
    "error",
)
VERDICTS = (CHANGE, ALREADY, UNKNOWN, DUPLICATE, INVALID, ERROR)
# Verdicts of lines that could not be checked: the preview lists them first.
PROBLEMS = (INVALID, UNKNOWN, ERROR)
QUERY_CHUNK = 1000


def waiting_counts(tuids: Sequence[str]) -> Counter[str]:
    """Per device, how many of our actions are still waiting to reach the platform."""
    waiting: Counter[str] = Counter()
    for start in range(0, len(tuids), QUERY_CHUNK):
        chunk = list(tuids[start : start + QUERY_CHUNK])
        rows = db.session.execute(
            select(OutboxStep.tuid, func.count())
            .where(OutboxStep.tuid.in_(chunk), OutboxStep.state.in_(UNFINISHED_STEP_STATES))
            .group_by(OutboxStep.tuid)
        )
        waiting.update({tuid: n for tuid, n in rows})
    return waiting


def verdict(action: JobAction, reading: Reading, waiting: int) -> tuple[str, str | None]:
    """Return the verdict on one device the platform was asked about, and why."""
    if reading.error:
        return ERROR, reading.error
    if not reading.found:
        return UNKNOWN, "Not in the platform stack: check the TUID or the customer."
    note = (
        f"{waiting} earlier action(s) on this device still wait to sync; this one applies after "
        "them."
        if waiting
        else None
    )
    if action.current(reading) == action.target and not waiting:
        return ALREADY, f"Already {action.target}."
    return CHANGE, note


def item_rows(
    job_id: int,
    action: JobAction,
    lines: Sequence[TargetLine],
    readings: Mapping[str, Reading],
    waiting: Mapping[str, int],
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Return one bulk_job_items row per input line, and how many lines got each verdict."""
    rows: list[dict[str, Any]] = []
    verdicts: Counter[str] = Counter()
    first_seen: set[str] = set()
    for line in lines:
        row: dict[str, Any] = {
            "job_id": job_id,
            "line_no": line.line_no,
            "raw": line.raw,
            "tuid": line.tuid,
            "current_status": None,
            "current_group": None,
            "message": None,
        }
        if line.tuid is None:
            row.update(verdict=INVALID, message=line.error)
        elif line.tuid in first_seen:
            row.update(verdict=DUPLICATE, message="Listed earlier; counted once.")
        else:
            first_seen.add(line.tuid)
            reading = readings[line.tuid]
            found, message = verdict(action, reading, waiting.get(line.tuid, 0))
            row.update(
                verdict=found,
                message=message,
                current_status=reading.status,
                current_group=reading.group,
            )
        verdicts[row["verdict"]] += 1
        rows.append(row)
    return rows, verdicts
