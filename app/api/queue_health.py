"""Queue health: the phones' telemetry header, stored on any request, and the console's list."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from flask_login import current_user
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from app.api.access import SUPERVISORS, require_roles
from app.database import db, utcnow
from app.services.queue_health import parse_report, queue_health, record_report

log = logging.getLogger(__name__)
HEADER = "X-Fieldhand-Queue"

bp = APIBlueprint(
    "queue_health", __name__, url_prefix="/api/queue-health", abp_tags=[Tag(name="queue health")]
)


class QueueHealthQuery(BaseModel):
    attention: bool = False


@bp.get("")
@require_roles(*SUPERVISORS)
def list_queue_health(query: QueueHealthQuery) -> Response:
    """List each phone's last queue report and contact, old or stuck queues first."""
    return jsonify({"items": queue_health(utcnow(), only_attention=query.attention)})


def _store_report(response: Response) -> Response:
    raw = request.headers.get(HEADER)
    if not raw or not request.path.startswith("/api/"):
        return response
    try:
        if not current_user.is_authenticated:
            return response
        report = parse_report(raw)
        if report is not None:
            record_report(current_user.id, report, utcnow())
    except Exception:  # telemetry must never fail the phone's request
        log.warning("queue report not stored", exc_info=True)
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    """Store the queue report a phone sends with any API request."""
    app.after_request(_store_report)
