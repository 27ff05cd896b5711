"""Who may call what: session loading, JSON 401s, and the role decorator every view uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app
from flask_login import current_user

from app.errors import error_response, unauthenticated_response
from app.extensions import login_manager
from app.models.users import User
from app.services import sign_ins

F = TypeVar("F", bound=Callable[..., Any])

ANY_ROLE = ("technician", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")


def init_app(app: Flask) -> None:
    """Teach flask-login to load users and to answer 401 in the JSON error shape."""

    @login_manager.user_loader
    def _load(token: str) -> User | None:
        # What flask-login calls the user id is our sign-in token (session or remember cookie).
        return sign_ins.resume(token, sign_in_max_age())

    @login_manager.unauthorized_handler
    def _unauthorized() -> Response:
        return unauthenticated()


def sign_in_max_age() -> timedelta:
    """Return how long a sign-in may last (the remember cookie's lifetime)."""
    return timedelta(days=current_app.config["SESSION_MAX_DAYS"])


def unauthenticated() -> Response:
    """Return the 401 the PWA reads as 'sign in again, your queue is kept'."""
    return unauthenticated_response()


def require_roles(*roles: str) -> Callable[[F], F]:
    """Allow the view only to signed-in users with one of these roles."""
    allowed = roles or ANY_ROLE

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return unauthenticated()
            if current_user.role not in allowed:
                return error_response(
                    403,
                    "forbidden",
                    f"Your role ({current_user.role}) may not do this; "
                    f"it needs {' or '.join(allowed)}.",
                )
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]  # the role test, OpenAPI
        return wrapper  # type: ignore[return-value]

    return decorator


def current_account() -> User:
    """Return the signed-in user (only valid inside a require_roles view)."""
    return current_user._get_current_object()
