"""The sync-failure inbox: failed and conflicting operations and the supervisor's decisions."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.access import SUPERVISORS, current_account, require_roles
from app.api.history import (
    HistoryPage,
    HistoryQuery,
    history_filter,
    history_row_json,
    sort_keys,
)
from app.api.schemas import ErrorBody
from app.api.serializers import iso, operation_json
from app.models.operations import SYNCING
from app.services import inbox as inbox_service
from app.services.history import HistoryRow

bp = APIBlueprint("inbox", __name__, url_prefix="/api/inbox", abp_tags=[Tag(name="inbox")])


class OperationPath(BaseModel):
    op_id: str = Field(max_length=36)


class RetryBody(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class EditBody(BaseModel):
    args: dict[str, Any] = Field(description="the corrected arguments, e.g. {group_id}")
    reason: str | None = Field(default=None, max_length=2000)


class DiscardBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why; shown to the technician")


class InboxQuery(HistoryQuery):
    EXTRA_STATES: ClassVar[tuple[str, ...]] = (
        inbox_service.STILL_RETRYING,
        inbox_service.DRIFT_REPAIRED,
    )


class InboxPage(HistoryPage):
    counts: dict[str, int] = Field(
        description="waiting operations: failed, conflict, retrying; and drift_repaired"
    )


def decision_json(decision: inbox_service.Decision) -> dict[str, Any]:
    """Serialise the operation after a decision and the audit event that records it."""
    event = decision.audit
    return {
        "operation": operation_json(decision.operation),
        "audit": {
            "id": event.id,
            "at": iso(event.at),
            "action": event.action,
            "reason": event.reason,
            "details": event.details,
        },
    }


@bp.get("", responses={200: InboxPage})
@require_roles(*SUPERVISORS)
def list_inbox(query: InboxQuery) -> Response:
    """Page through operations that failed or conflict, with the platform's message.

    `state=retrying` lists instead (or as well) the operations the worker keeps retrying, each
    with its tries so far and the time of the next one. `state=drift_repaired` lists the
    operations whose read-back found the platform drifted (one of our own late writes) and whose
    last action the worker applied again, with the evidence as their message.
    """
    page = inbox_service.inbox_page(
        history_filter(query), sort_keys(query.sort), query.page, query.size, query.cursor
    )
    retrying = inbox_service.retry_statuses([row.id for row in page.items if row.state == SYNCING])

    def item_json(row: HistoryRow) -> dict[str, Any]:
        data = history_row_json(row)
        status = retrying.get(row.id)
        data["retrying"] = (
            {"attempts": status.attempts, "next_try_at": iso(status.next_try_at)}
            if status
            else None
        )
        return data

    return jsonify({**page.json(item_json), "counts": inbox_service.inbox_counts()})


@bp.post("/<op_id>/retry", responses={"409": ErrorBody})
@require_roles(*SUPERVISORS)
def retry(path: OperationPath, body: RetryBody) -> Response:
    """Send a failed operation again, or apply a conflicting one after the newer actions.

    For an operation still being retried, try it now instead of after the backoff wait.
    """
    decision = inbox_service.retry(path.op_id, current_account(), body.reason)
    return jsonify(decision_json(decision))


@bp.post("/<op_id>/edit", responses={"409": ErrorBody})
@require_roles(*SUPERVISORS)
def edit(path: OperationPath, body: EditBody) -> Response:
    """Correct the operation's arguments and send it again."""
    decision = inbox_service.edit(path.op_id, body.args, current_account(), body.reason)
    return jsonify(decision_json(decision))


@bp.post("/<op_id>/discard", responses={"409": ErrorBody})
@require_roles(*SUPERVISORS)
def discard(path: OperationPath, body: DiscardBody) -> Response:
    """Give up on the operation, with a reason the technician will see."""
    decision = inbox_service.discard(path.op_id, body.reason, current_account())
    return jsonify(decision_json(decision))
