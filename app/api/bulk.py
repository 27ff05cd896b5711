"""Bulk retire, quarantine, uninstall and move: dry-run preview, counted confirm, progress."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response, current_app, jsonify, stream_with_context
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, model_validator

from app.api.access import SUPERVISORS, current_account, require_roles
from app.api.schemas import ErrorBody, Upload
from app.api.serializers import iso
from app.database import utcnow
from app.errors import Unprocessable
from app.input_bounds import Count, PageNumber, RowId
from app.models.bulk import BulkJob, BulkJobItem
from app.models.users import User
from app.platform.provider import current_platform
from app.services import bulk as bulk_service
from app.services import exports
from app.services.bulk import targets as bulk_targets
from app.services.paging import MAX_PAGE_SIZE, Page

bp = APIBlueprint("bulk", __name__, url_prefix="/api/bulk", abp_tags=[Tag(name="bulk")])

BulkAction = Literal["retire", "quarantine", "uninstall", "move"]
# States in which nothing was sent, so there is no progress to show.
NOT_STARTED = bulk_service.SENT_NOTHING


class PreviewBody(BaseModel):
    """Exactly one source: `tuids` (a list), `text` (one device or label per line) or `group_id`."""

    action: BulkAction
    target_group: str | None = Field(default=None, max_length=80, description="for move")
    tuids: list[str] | None = Field(default=None, description="TUIDs or label texts")
    text: str | None = Field(default=None, description="pasted lines")
    group_id: str | None = Field(default=None, max_length=80, description="every device in it")

    @model_validator(mode="after")
    def _one_source(self) -> PreviewBody:
        given = [n for n in ("tuids", "text", "group_id") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of tuids, text or group_id")
        return self


class PreviewUpload(BaseModel):
    file: Upload = Field(description="CSV: a column named tuid, else the first column")
    action: BulkAction
    target_group: str | None = Field(default=None, max_length=80)


class JobPath(BaseModel):
    job_id: RowId


class JobsQuery(BaseModel):
    state: str | None = Field(default=None, max_length=16)
    page: PageNumber = 0
    size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)


class ItemsQuery(BaseModel):
    verdict: Literal["change", "already", "unknown", "duplicate", "invalid", "error"] | None = None
    page: PageNumber = 0
    size: int = Field(default=100, ge=1, le=MAX_PAGE_SIZE)


class ConfirmBody(BaseModel):
    expected_count: Count = Field(description="how many devices the preview says will change")


class ResultsQuery(BaseModel):
    bom: bool = True


def _user_json(user: User | None) -> dict[str, str] | None:
    return {"username": user.username, "display_name": user.display_name} if user else None


def job_json(
    job: BulkJob, creator: User | None, progress: bulk_service.Progress | None
) -> dict[str, Any]:
    """Serialise a bulk job with its progress (null while it is only a preview)."""
    action = bulk_service.JobAction(job.action, job.target_group)
    return {
        "id": job.id,
        "action": job.action,
        "kind": action.kind,
        "target": action.target,
        "target_group": job.target_group,
        "source": job.source,
        "source_detail": job.source_detail,
        "state": job.state,
        "created_by": _user_json(creator),
        "created_at": iso(job.created_at),
        "confirmed_at": iso(job.confirmed_at),
        "finished_at": iso(job.finished_at),
        "cancelled_at": iso(job.cancelled_at),
        "summary": job.summary,
        "progress": progress.json() if progress is not None else None,
    }


def item_json(item: BulkJobItem) -> dict[str, Any]:
    """Serialise one line of a bulk job."""
    return {
        "line_no": item.line_no,
        "raw": item.raw,
        "tuid": item.tuid,
        "verdict": item.verdict,
        "current_status": item.current_status,
        "current_group": item.current_group,
        "message": item.message,
        "will_change": item.verdict == bulk_service.CHANGE,
    }


def _limit() -> int:
    return int(current_app.config["BULK_MAX_DEVICES"])


def _start_preview(
    action: bulk_service.JobAction, targets: bulk_service.Targets
) -> tuple[Response, int]:
    """Store the job as `checking`, read its devices in the background, answer 202 at once."""
    job = bulk_service.start_dry_run(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        action=action,
        targets=targets,
        user=current_account(),
    )
    response = jsonify({"job": job_json(job, current_account(), None)})
    response.headers["Location"] = f"/api/bulk/{job.id}"
    return response, 202


@bp.post("/preview", responses={"202": None, "404": ErrorBody, "503": ErrorBody})
@require_roles(*SUPERVISORS)
def preview(body: PreviewBody) -> tuple[Response, int]:
    """Dry-run a bulk action over a list or a whole group: what would change for each device.

    Answers 202 with the job `checking`; follow GET /api/bulk/{id} (summary.read of
    summary.devices) until it is `preview` (verdicts ready) or `check_failed` (summary.failure
    says why).
    """
    action = bulk_service.job_action(body.action, body.target_group)
    if body.group_id is not None:
        targets = bulk_targets.from_group(current_platform(), body.group_id, _limit())
    elif body.tuids is not None:
        targets = bulk_targets.from_entries(body.tuids, _limit())
    else:
        targets = bulk_targets.from_text(body.text or "", _limit())
    return _start_preview(action, targets)


@bp.post("/preview/upload", responses={"202": None})
@require_roles(*SUPERVISORS)
def preview_upload(form: PreviewUpload) -> tuple[Response, int]:
    """Dry-run a bulk action over an uploaded CSV of TUIDs or label texts (202, as /preview)."""
    action = bulk_service.job_action(form.action, form.target_group)
    data = form.file.read()
    if not data.strip():
        raise Unprocessable("The uploaded file is empty.", {"field": "file"})
    targets = bulk_targets.from_csv(data, form.file.filename or "upload.csv", _limit())
    return _start_preview(action, targets)


@bp.get("")
@require_roles(*SUPERVISORS)
def list_jobs(query: JobsQuery) -> Response:
    """List bulk jobs, newest first, each with its progress."""
    bulk_service.settle_jobs()
    page = bulk_service.jobs_page(query.state, query.page, query.size)
    users = bulk_service.creators([job for job, _ in page.items])
    shaped: Page[dict[str, Any]] = page.map(
        lambda pair: job_json(pair[0], users.get(pair[0].created_by_id), pair[1])
    )
    return jsonify(shaped.json())


def _job_response(job: BulkJob) -> Response:
    progress = None if job.state in NOT_STARTED else bulk_service.job_progress(job)
    creator = bulk_service.creators([job]).get(job.created_by_id)
    return jsonify(job_json(job, creator, progress))


@bp.get("/<int:job_id>")
@require_roles(*SUPERVISORS)
def get_job(path: JobPath) -> Response:
    """Return a job: its preview summary and, once confirmed, its progress."""
    return _job_response(bulk_service.settled_job(path.job_id))


@bp.get("/<int:job_id>/items")
@require_roles(*SUPERVISORS)
def list_items(path: JobPath, query: ItemsQuery) -> Response:
    """Page through the job's lines in input order, optionally one verdict only."""
    page = bulk_service.items_page(path.job_id, query.verdict, query.page, query.size)
    return jsonify(page.json(item_json))


@bp.post("/<int:job_id>/confirm", responses={"409": ErrorBody})
@require_roles(*SUPERVISORS)
def confirm(path: JobPath, body: ConfirmBody) -> Response:
    """Start the job; `expected_count` must name how many devices will change."""
    job = bulk_service.confirm(path.job_id, body.expected_count, current_account())
    return _job_response(job)


@bp.post("/<int:job_id>/cancel", responses={"409": ErrorBody})
@require_roles(*SUPERVISORS)
def cancel(path: JobPath) -> Response:
    """Stop the job: what has not been sent is cancelled, what was sent stays."""
    job = bulk_service.cancel(path.job_id, current_account())
    return _job_response(job)


@bp.get("/<int:job_id>/results.csv")
@require_roles(*SUPERVISORS)
def results(path: JobPath, query: ResultsQuery) -> Response:
    """Stream one row per input line: the preview verdict and what happened on the platform."""
    job = bulk_service.get_job(path.job_id)
    body = exports.csv_chunks(
        exports.RESULTS_HEADER,
        bulk_service.iter_results(job.id),
        exports.result_cells,
        bom=query.bom,
    )
    filename = exports.attachment_name(f"fieldhand-bulk-{job.id}-results", utcnow().date())
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
