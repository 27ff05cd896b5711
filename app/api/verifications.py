"""Install verification: a batch's states for the phone, the silent list and its CSV."""

from __future__ import annotations

from flask import Response, jsonify, stream_with_context
from flask_login import current_user
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, field_validator

from app.api.access import SUPERVISORS, require_roles
from app.database import utcnow
from app.input_bounds import PageNumber
from app.services import exports
from app.services.verifications import (
    SilentFilter,
    by_operation,
    iter_silent,
    silent_json,
    silent_page,
)

bp = APIBlueprint(
    "verifications", __name__, url_prefix="/api/verifications", abp_tags=[Tag(name="verification")]
)
MAX_OPS = 500


class BatchQuery(BaseModel):
    ops: list[str] = Field(
        default_factory=list, description=f"op_ids, repeatable or a,b (at most {MAX_OPS})"
    )

    @field_validator("ops")
    @classmethod
    def _ops(cls, value: list[str]) -> list[str]:
        ops = [part.strip() for item in value for part in item.split(",") if part.strip()]
        if len(ops) > MAX_OPS:
            raise ValueError(f"at most {MAX_OPS} op_ids at once")
        return ops


class SilentQuery(BaseModel):
    group: str | None = Field(default=None, max_length=64)
    technician: str | None = Field(default=None, max_length=64, description="username")
    page: PageNumber = 0
    size: int = Field(default=50, ge=1, le=500)


class SilentCsvQuery(BaseModel):
    group: str | None = Field(default=None, max_length=64)
    technician: str | None = Field(default=None, max_length=64)
    bom: bool = True


@bp.get("")
@require_roles()
def batch_verifications(query: BatchQuery) -> Response:
    """Return each operation's install verification (a technician sees only their own)."""
    own = None if current_user.role in SUPERVISORS else current_user.id
    return jsonify({"items": by_operation(query.ops, own)})


@bp.get("/silent")
@require_roles(*SUPERVISORS)
def list_silent(query: SilentQuery) -> Response:
    """Page through installed devices that have not reported, newest install first."""
    rows, total = silent_page(SilentFilter(query.group, query.technician), query.page, query.size)
    pages = (total + query.size - 1) // query.size
    return jsonify(
        {
            "items": [silent_json(row) for row in rows],
            "totalElements": total,
            "totalPages": pages,
            "number": query.page,
            "size": query.size,
            "last": query.page >= pages - 1,
        }
    )


@bp.get("/silent.csv")
@require_roles(*SUPERVISORS)
def export_silent(query: SilentCsvQuery) -> Response:
    """Stream the silent devices as CSV."""
    chunks = iter_silent(SilentFilter(query.group, query.technician))
    body = exports.csv_chunks(exports.SILENT_HEADER, chunks, exports.silent_cells, bom=query.bom)
    filename = exports.attachment_name("fieldhand-silent-devices", utcnow().date())
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
