"""Accounts: create users, check passwords with Argon2id, rehash when parameters change."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from app.database import db
from app.errors import Conflict, DomainError, NotFound
from app.models.users import ROLES, User
from app.services import sign_ins

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD_LENGTH = 10


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


class WrongPassword(DomainError):
    # A wrong field, not 401 (the apps read it as "your session ended") nor 403 (a role).
    status = 400
    code = "wrong_password"


def _check_strength(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", {"field": field}
        )


def create_user(username: str, password: str, role: str, display_name: str = "") -> User:
    """Create a user with a hashed password; raise on a bad role, weak password or duplicate."""
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise DomainError("A username is 1 to 64 characters.", {"field": "username"})
    if role not in ROLES:
        raise DomainError(
            f"Unknown role '{role}'; use one of {', '.join(ROLES)}.", {"field": "role"}
        )
    _check_strength(password, "password")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"User '{username}' already exists.")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=_hasher.hash(password),
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User:
    """Return the active user with these credentials or raise InvalidCredentials."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials("Wrong username or password.") from None
    if user is None or not user.active:
        raise InvalidCredentials("Wrong username or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        db.session.commit()
    return user


def set_password(user: User, new_password: str) -> int:
    """Set a new password and end every sign-in of the user; return how many were ended."""
    _check_strength(new_password, "new_password")
    user.password_hash = _hasher.hash(new_password)
    ended = sign_ins.end_all(user.id, commit=False)
    db.session.commit()
    return ended


def change_password(user: User, current_password: str, new_password: str) -> int:
    """Check the current password, then set the new one (ending every sign-in)."""
    try:
        _hasher.verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError):
        details = {"field": "current_password"}
        raise WrongPassword("The current password is wrong.", details) from None
    return set_password(user, new_password)


def find_user(username: str) -> User:
    """Return the user with this username or raise NotFound."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"No user '{username}'.")
    return user


def require_user(user_id: int) -> User:
    """Return the user with this id or raise NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def list_users() -> list[User]:
    """Return every account, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def count_users() -> int:
    """Return how many accounts exist."""
    return db.session.scalar(select(func.count(User.id))) or 0


def ensure_demo_users() -> dict[str, str] | None:
    """On an empty database create one user per role; return their generated passwords once."""
    if count_users():
        return None
    credentials: dict[str, str] = {}
    for role, name in (("technician", "tech"), ("supervisor", "super"), ("admin", "admin")):
        password = secrets.token_urlsafe(12)
        create_user(name, password, role, display_name=f"Demo {role}")
        credentials[name] = password
    return credentials
