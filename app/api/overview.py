"""The console's first page: the fleet at a glance, from aggregate queries."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag

from app.api.access import SUPERVISORS, require_roles
from app.database import utcnow
from app.services.overview import overview

bp = APIBlueprint("overview", __name__, url_prefix="/api/overview", abp_tags=[Tag(name="overview")])


@bp.get("")
@require_roles(*SUPERVISORS)
def get_overview() -> Response:
    """Return devices per group and status, installs per day, verification and queue counts."""
    return jsonify(overview(utcnow()))
