"""The device card: local history and live platform state of one TUID."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.access import require_roles
from app.api.serializers import cached_device_json, operation_json
from app.errors import Unprocessable
from app.platform.provider import current_platform
from app.services.devices import device_view
from app.services.operation_rules import InvalidOperation

bp = APIBlueprint("devices", __name__, url_prefix="/api/devices", abp_tags=[Tag(name="devices")])


class DevicePath(BaseModel):
    tuid: str = Field(max_length=64)


@bp.get("/<tuid>")
@require_roles()
def get_device(path: DevicePath) -> Response:
    """Return what we know of a device and what the platform says now."""
    try:
        view = device_view(path.tuid, current_platform())
    except InvalidOperation as exc:
        raise Unprocessable(str(exc)) from exc
    return jsonify(
        {
            "tuid": view.tuid,
            "imc": view.tuid[:6],
            "psn": view.tuid[6:],
            "device_type": view.device_type,
            "local": cached_device_json(view.local),
            "platform": view.platform,
            "history": [operation_json(op, with_steps=False) for op in view.history],
            "verification": view.verification,
        }
    )
