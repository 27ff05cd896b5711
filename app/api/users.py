"""Accounts for admins: who exists, and "sign out everywhere" for a lost or shared phone."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from app.api.access import SUPERVISORS, require_roles
from app.input_bounds import RowId
from app.models.users import User
from app.services import accounts, sign_ins

bp = APIBlueprint("users", __name__, url_prefix="/api/users", abp_tags=[Tag(name="users")])


class UserPath(BaseModel):
    user_id: RowId


def _user_row(user: User, live: int) -> dict[str, object]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "sign_ins": live,
    }


@bp.get("")
@require_roles("admin")
def list_users() -> Response:
    """List every account with its number of live sign-ins (admins)."""
    users = accounts.list_users()
    live = sign_ins.count_live([user.id for user in users])
    return jsonify({"items": [_user_row(user, live.get(user.id, 0)) for user in users]})


@bp.get("/people")
@require_roles(*SUPERVISORS)
def list_people() -> Response:
    """List active accounts by name and role, for the console's technician filter (supervisors)."""
    people = [user for user in accounts.list_users() if user.active]
    return jsonify(
        {
            "items": [
                {"username": u.username, "display_name": u.display_name, "role": u.role}
                for u in people
            ]
        }
    )


@bp.post("/<int:user_id>/sign-out-everywhere")
@require_roles("admin")
def sign_out_everywhere(path: UserPath) -> Response:
    """End every sign-in of this user on every device at once (admins)."""
    user = accounts.require_user(path.user_id)
    return jsonify({"ended": sign_ins.end_all(user.id)})
