"""Admin settings: read them (supervisors see who may create groups), change them (admins)."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from app.api.access import SUPERVISORS, current_account, require_roles
from app.api.serializers import iso
from app.services import admin_settings

bp = APIBlueprint("settings", __name__, url_prefix="/api/settings", abp_tags=[Tag(name="settings")])


class SettingsBody(BaseModel):
    technicians_create_groups: bool | None = None


def _settings_json() -> dict[str, object]:
    value = admin_settings.get(admin_settings.TECHNICIANS_CREATE_GROUPS)
    return {
        "technicians_create_groups": bool(value.value),
        "defaults": {"technicians_create_groups": bool(value.default)},
        "changed": {
            "technicians_create_groups": (
                {
                    "by": value.changed_by.display_name or value.changed_by.username
                    if value.changed_by
                    else None,
                    "at": iso(value.changed_at),
                }
                if value.changed_at
                else None
            )
        },
    }


@bp.get("")
@require_roles(*SUPERVISORS)
def get_settings() -> Response:
    """Return the admin settings, each with its environment default."""
    return jsonify(_settings_json())


@bp.put("")
@require_roles("admin")
def change_settings(body: SettingsBody) -> Response:
    """Change admin settings (admins); a setting not in the body stays as it is."""
    if body.technicians_create_groups is not None:
        admin_settings.set_value(
            admin_settings.TECHNICIANS_CREATE_GROUPS,
            body.technicians_create_groups,
            current_account(),
        )
    return jsonify(_settings_json())
