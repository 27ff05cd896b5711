"""Who may call what: session loading, JSON 401s, and the role decorator every view uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response
from flask_login import current_user

from app.errors import error_response
from app.extensions import login_manager
from app.models.users import User
from app.services import accounts

F = TypeVar("F", bound=Callable[..., Any])

ANY_ROLE = ("technician", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")


def init_app(app: Flask) -> None:
    """Teach flask-login to load users and to answer 401 in the JSON error shape."""

    @login_manager.user_loader
    def _load(user_id: str) -> User | None:
        user = accounts.get_user(int(user_id))
        return user if user is not None and user.active else None

    @login_manager.unauthorized_handler
    def _unauthorized() -> Response:
        return unauthenticated()


def unauthenticated() -> Response:
    """Return the 401 the PWA reads as 'sign in again, your queue is kept'."""
    return error_response(
        401,
        "unauthenticated",
        "You are not signed in, or your session has expired. Sign in again; "
        "actions waiting on this device are kept.",
    )


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

        wrapper.required_roles = allowed  # type: ignore[attr-defined]  # read by app.api.openapi
        return wrapper  # type: ignore[return-value]

    return decorator


def current_account() -> User:
    """Return the signed-in user (only valid inside a require_roles view)."""
    return current_user._get_current_object()
