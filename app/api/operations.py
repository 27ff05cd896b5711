"""Technician operations: batch ingest and state follow-up."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.access import current_account, require_roles
from app.api.schemas import ErrorBody
from app.api.serializers import operation_json
from app.errors import Conflict, DomainError
from app.input_bounds import QueryInstant
from app.services import operations as operations_service
from app.services.undo import UndoBeforeSync, UndoRefused, UndoStateUnknown

bp = APIBlueprint(
    "operations", __name__, url_prefix="/api/operations", abp_tags=[Tag(name="operations")]
)


class UndoNotAllowed(Conflict):
    """A refused undo, with the refusal's own code (the phone explains each in its words)."""

    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message, details)
        self.code = code


UNDO_REFUSALS = {UndoRefused.code, UndoBeforeSync.code, UndoStateUnknown.code}


class OperationsBatch(BaseModel):
    operations: list[Any] = Field(
        min_length=1,
        description=(
            "Operations as recorded on the phone: {op_id, kind, tuid, args, device_time, seen}. "
            "Each is validated on its own so one bad item does not reject the batch."
        ),
    )


class OperationsQuery(BaseModel):
    ids: str | None = Field(default=None, description="Comma-separated op_ids")
    mine: bool = False
    since: QueryInstant | None = None
    limit: int = Field(default=500, ge=1, le=500)


@bp.post("", responses={"409": ErrorBody})
@require_roles()
def ingest(body: OperationsBatch) -> Response:
    """Store operations idempotently by op_id; one result per item, in order."""
    limit = current_app.config["OPERATIONS_BATCH_MAX"]
    if len(body.operations) > limit:
        raise DomainError(
            f"A batch holds at most {limit} operations; send the rest in another batch.",
            {"limit": limit},
        )
    results = operations_service.ingest(body.operations, current_account())
    if len(results) == 1 and results[0].error_code in UNDO_REFUSALS:
        # One undo on its own (the phone sends a refused batch again one by one): a plain 409
        # with the refusal's own code.
        raise UndoNotAllowed(
            results[0].error_code, results[0].error_message or "", {"op_id": results[0].op_id}
        )
    return jsonify(
        {
            "results": [
                {
                    "op_id": r.op_id,
                    "result": r.result,
                    "operation": operation_json(r.operation) if r.operation else None,
                    "error": (
                        {"code": r.error_code, "message": r.error_message} if r.error_code else None
                    ),
                }
                for r in results
            ]
        }
    )


@bp.get("")
@require_roles()
def list_operations(query: OperationsQuery) -> Response:
    """Return operations by op_id, or the caller's own since a time."""
    if query.ids:
        wanted = [i.strip() for i in query.ids.split(",") if i.strip()][:500]
        found = operations_service.get_by_op_ids(wanted)
        user = current_account()
        if user.role == "technician":
            found = [op for op in found if op.user_id == user.id]
    elif query.mine:
        found = operations_service.list_for_user(current_account(), query.since, query.limit)
    else:
        raise DomainError("Ask for ids=... or mine=true.")
    return jsonify({"items": [operation_json(op) for op in found]})
