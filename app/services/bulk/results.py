"""A bulk job's per-device results: the preview verdict beside what happened on the platform."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.database import db
from app.models.bulk import BulkJobItem
from app.models.operations import ACCEPTED, DISCARDED, SYNCED, SYNCING, Operation
from app.services.bulk.verdicts import ALREADY, CHANGE, DUPLICATE

RESULTS_CHUNK = 1000


@dataclass
class ResultRow:
    line_no: int
    raw: str
    tuid: str | None
    verdict: str
    current_status: str | None
    current_group: str | None
    message: str | None
    op_id: str | None
    state: str | None
    error_message: str | None
    synced_at: datetime | None


def iter_results(job_id: int, chunk: int = RESULTS_CHUNK) -> Iterator[list[ResultRow]]:
    """Yield the job's per-device results in input order, in chunks."""
    query = (
        select(
            BulkJobItem.line_no,
            BulkJobItem.raw,
            BulkJobItem.tuid,
            BulkJobItem.verdict,
            BulkJobItem.current_status,
            BulkJobItem.current_group,
            BulkJobItem.message,
            Operation.op_id,
            Operation.state,
            Operation.error_message,
            Operation.synced_at,
        )
        .outerjoin(Operation, Operation.id == BulkJobItem.operation_id)
        .where(BulkJobItem.job_id == job_id)
        .order_by(BulkJobItem.line_no, BulkJobItem.id)
        .execution_options(stream_results=True, yield_per=chunk)
    )
    result = db.session.execute(query)
    try:
        for partition in result.partitions(chunk):
            yield [ResultRow(**row._mapping) for row in partition]
    finally:
        result.close()


def result_label(row: ResultRow) -> str:
    """Return one word for what happened to the device."""
    if row.verdict != CHANGE:
        return {ALREADY: "unchanged", DUPLICATE: "skipped"}.get(row.verdict, "not_done")
    if row.state is None:
        return "not_started"
    return {ACCEPTED: "waiting", SYNCING: "sending", SYNCED: "done", DISCARDED: "cancelled"}.get(
        row.state, row.state
    )
