"""Sign in, sign out, change the password, and who am I."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request, session
from flask_login import current_user, login_user, logout_user
from flask_openapi3 import APIBlueprint, Tag
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel, Field

from app.api.access import current_account, require_roles, sign_in_max_age, unauthenticated
from app.api.schemas import ErrorBody
from app.extensions import csrf, limiter
from app.models.users import User
from app.services import accounts, sign_ins

bp = APIBlueprint("auth", __name__, url_prefix="/api/auth", abp_tags=[Tag(name="auth")])


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    remember: bool = True


class MeQuery(BaseModel):
    optional: bool = Field(
        default=False,
        description="Answer 200 with user null instead of 401 when no one is signed in "
        "(the phone asking whether the browser's cookie carries a sign-in).",
    )


class PasswordBody(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


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


def _forget_csrf_token() -> None:
    """Drop the CSRF token so the next one is new: a token never outlives its sign-in."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)  # flask-wtf caches the token for the request here


def _sign_in(user: User, remember: bool) -> None:
    # Signing in again in the same browser ends the sign-in its cookies carried until now.
    if current_user.is_authenticated and (previous := current_account().sign_in_token()):
        sign_ins.end(previous)
    # A fresh cookie session: nothing from before the sign-in (CSRF token included) carries over.
    session.clear()
    _forget_csrf_token()
    sign_ins.start(user, sign_in_max_age())
    login_user(user, remember=remember)


@bp.post("/login", responses={"401": ErrorBody, "429": ErrorBody})
@csrf.exempt
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def login(body: LoginBody) -> Response:
    """Check credentials and start a session."""
    user = accounts.authenticate(body.username, body.password)
    _sign_in(user, body.remember)
    return _session_payload(user)


@bp.post("/logout", responses={"204": None})
@require_roles()
def logout() -> Response:
    """End this sign-in (its session and remember cookies, on every worker); the phone keeps
    its queued actions."""
    token = current_account().sign_in_token()
    if token is not None:
        sign_ins.end(token)
    logout_user()
    _forget_csrf_token()
    return Response(status=204)


@bp.post("/password", responses={"403": ErrorBody})
@require_roles()
def change_password(body: PasswordBody) -> Response:
    """Change your password: every sign-in of yours ends (other devices sign in again); this
    one continues under a new session and CSRF token."""
    user = current_account()
    accounts.change_password(user, body.current_password, body.new_password)
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    _sign_in(user, remember=remembered)
    return _session_payload(user)


@bp.post("/sign-out-everywhere")
@require_roles()
def sign_out_everywhere() -> Response:
    """End every sign-in of yours, this one included (a lost phone)."""
    ended = sign_ins.end_all(current_account().id)
    logout_user()
    _forget_csrf_token()
    return jsonify({"ended": ended})


@bp.get("/me", responses={"401": ErrorBody})
def me(query: MeQuery) -> Response:
    """Return the signed-in user and a fresh CSRF token, or 401."""
    if not current_user.is_authenticated:
        if query.optional:
            response = jsonify({"user": None, "csrf_token": None})
            response.headers["Cache-Control"] = "no-store"
            return response
        return unauthenticated()
    return _session_payload(current_user)
