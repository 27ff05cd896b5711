"""Liveness probe the PWA uses to decide whether it is really online."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag

from app.database import utcnow

bp = APIBlueprint("health", __name__, url_prefix="/api", abp_tags=[Tag(name="health")])


@bp.get("/health")
def health():
    """Report that the API answers; never cached."""
    response = jsonify({"status": "ok", "time": utcnow().isoformat()})
    response.headers["Cache-Control"] = "no-store"
    return response
