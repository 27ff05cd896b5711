"""The configured platform: its name, what it can do and what its device ids look like.

The PWA and the console read this once per session (and keep it for offline use) to hide or
explain what the platform cannot do, instead of failing at sync time.
"""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag

from app.api.access import require_roles
from app.platform.provider import current_profile

bp = APIBlueprint("platform", __name__, url_prefix="/api/platform", abp_tags=[Tag(name="platform")])


@bp.get("")
@require_roles()
def get_platform() -> Response:
    """Return the platform's key, title, capabilities, device id rule and rate limit."""
    return jsonify(current_profile().to_dict())
