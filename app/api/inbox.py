"""The sync-failure inbox: failed and conflicting operations and the supervisor's decisions."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.access import SUPERVISORS, current_account, require_roles
from app.api.history import HistoryQuery, history_filter, history_row_json, sort_keys
from app.api.serializers import iso, operation_json
from app.services import inbox as inbox_service

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


@bp.get("")
@require_roles(*SUPERVISORS)
def list_inbox(query: HistoryQuery) -> Response:
    """Page through operations that failed or conflict, with the platform's message."""
    page = inbox_service.inbox_page(
        history_filter(query), sort_keys(query.sort), query.page, query.size
    )
    return jsonify({**page.json(history_row_json), "counts": inbox_service.inbox_counts()})


@bp.post("/<op_id>/retry")
@require_roles(*SUPERVISORS)
def retry(path: OperationPath, body: RetryBody) -> Response:
    """Send a failed operation again, or apply a conflicting one after the newer actions."""
    decision = inbox_service.retry(path.op_id, current_account(), body.reason)
    return jsonify(decision_json(decision))


@bp.post("/<op_id>/edit")
@require_roles(*SUPERVISORS)
def edit(path: OperationPath, body: EditBody) -> Response:
    """Correct the operation's arguments and send it again."""
    decision = inbox_service.edit(path.op_id, body.args, current_account(), body.reason)
    return jsonify(decision_json(decision))


@bp.post("/<op_id>/discard")
@require_roles(*SUPERVISORS)
def discard(path: OperationPath, body: DiscardBody) -> Response:
    """Give up on the operation, with a reason the technician will see."""
    decision = inbox_service.discard(path.op_id, body.reason, current_account())
    return jsonify(decision_json(decision))
