"""Sign in, sign out, and who am I."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from flask_login import current_user, login_user, logout_user
from flask_openapi3 import APIBlueprint, Tag
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, Field

from app.api.access import require_roles, unauthenticated
from app.api.schemas import ErrorBody
from app.extensions import csrf, limiter
from app.models.users import User
from app.services import accounts

bp = APIBlueprint("auth", __name__, url_prefix="/api/auth", abp_tags=[Tag(name="auth")])


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    remember: bool = True


def user_json(user: User) -> dict[str, object]:
    """Serialise the parts of a user the PWA shows."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
    }


def _session_payload(user: User) -> Response:
    response = jsonify({"user": user_json(user), "csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/login", responses={"401": ErrorBody, "429": ErrorBody})
@csrf.exempt
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def login(body: LoginBody) -> Response:
    """Check credentials and start a session."""
    user = accounts.authenticate(body.username, body.password)
    login_user(user, remember=body.remember)
    return _session_payload(user)


@bp.post("/logout", responses={"204": None})
@require_roles()
def logout() -> Response:
    """End the session; the phone keeps its queued actions."""
    logout_user()
    return Response(status=204)


@bp.get("/me", responses={"401": ErrorBody})
def me() -> Response:
    """Return the signed-in user and a fresh CSRF token, or 401."""
    if not current_user.is_authenticated:
        return unauthenticated()
    return _session_payload(current_user)
