"""Deployment groups: list (with offline cache), create, rename, delete."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from app.api.access import SUPERVISORS, current_account, require_roles
from app.api.schemas import ErrorBody
from app.api.serializers import iso
from app.errors import Forbidden
from app.models.devices import DeploymentGroup
from app.platform.provider import current_platform
from app.services import admin_settings
from app.services import groups as groups_service

bp = APIBlueprint("groups", __name__, url_prefix="/api/groups", abp_tags=[Tag(name="groups")])


class GroupBody(BaseModel):
    group_id: str = Field(min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=500)


class RenameBody(BaseModel):
    group_id: str = Field(min_length=1, max_length=80)


class GroupPath(BaseModel):
    group_id: str = Field(max_length=80)


def group_json(group: DeploymentGroup) -> dict[str, object]:
    """Serialise a cached group."""
    return {
        "group_id": group.group_id,
        "description": group.description,
        "follows_convention": groups_service.follows_convention(group.group_id),
    }


def _may_create() -> bool:
    technicians = admin_settings.technicians_create_groups()
    return groups_service.may_create_groups(current_account().role, technicians)


@bp.get("", responses={"503": ErrorBody})
@require_roles()
def list_groups() -> Response:
    """List deployment groups; from the local cache when the platform is unreachable."""
    result = groups_service.list_groups(current_platform())
    technicians = admin_settings.technicians_create_groups()
    return jsonify(
        {
            "items": [group_json(g) for g in result.groups],
            "source": result.source,
            "synced_at": iso(result.synced_at),
            "message": result.message,
            "convention": groups_service.CONVENTION_HELP,
            # Whether this user may create groups, and who may (so the phone can say whom to ask).
            "can_create": _may_create(),
            "creators": [*groups_service.GROUP_CREATORS, *(["technician"] if technicians else [])],
        }
    )


@bp.post("", responses={"201": None, "403": ErrorBody, "409": ErrorBody, "503": ErrorBody})
@require_roles()
def create_group(body: GroupBody) -> tuple[Response, int]:
    """Create a deployment group (id lowercased, non-alphanumerics removed)."""
    if not _may_create():
        raise Forbidden(
            "Only supervisors and admins may create deployment groups; an admin can let "
            "technicians create them in the console (Users)."
        )
    group = groups_service.create_group(current_platform(), body.group_id, body.description)
    return jsonify(group_json(group)), 201


@bp.post("/<group_id>/rename", responses={"409": ErrorBody, "503": ErrorBody})
@require_roles(*SUPERVISORS)
def rename_group(path: GroupPath, body: RenameBody) -> Response:
    """Rename a group; its devices move with it."""
    group = groups_service.rename_group(current_platform(), path.group_id, body.group_id)
    return jsonify(group_json(group))


@bp.delete("/<group_id>", responses={"409": ErrorBody, "503": ErrorBody})
@require_roles(*SUPERVISORS)
def delete_group(path: GroupPath) -> Response:
    """Delete a group; its devices become unassigned."""
    groups_service.delete_group(current_platform(), path.group_id)
    return jsonify({"group_id": path.group_id, "deleted": True})
