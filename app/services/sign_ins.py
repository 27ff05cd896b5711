"""Sign-ins: start, resume and end server-side sessions.

A sign-in is a row; the session cookie and the remember cookie carry only its token. Every
request resumes the sign-in from the database, so ending it (sign out, a password change, an
admin's "sign out everywhere") takes effect at once on every worker process and every host.
Nothing expires while a phone is offline: a sign-in lasts until it is ended or reaches its
maximum age (the remember cookie's lifetime).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from app.database import db, utcnow
from app.models.sign_ins import SignIn
from app.models.users import User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, max_age: timedelta, now: datetime | None = None) -> str:
    """Start a sign-in for this user, tie it to the user object and return its token."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    # Sign-ins past their age can never be resumed; drop this user's on the way.
    db.session.execute(
        delete(SignIn).where(SignIn.user_id == user.id, SignIn.created_at < now - max_age)
    )
    db.session.add(SignIn(user_id=user.id, token_hash=_hash(token), created_at=now))
    db.session.commit()
    user.attach_sign_in(token)
    return token


def resume(token: str, max_age: timedelta, now: datetime | None = None) -> User | None:
    """Return the active user of this live sign-in (tied to it), or None when it was ended."""
    if not token or len(token) > 128:
        return None
    row = db.session.execute(
        select(User, SignIn.created_at)
        .join(SignIn, SignIn.user_id == User.id)
        .where(SignIn.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    user, created_at = row
    if not user.active or created_at < (now or utcnow()) - max_age:
        return None
    user.attach_sign_in(token)
    return user


def end(token: str) -> None:
    """End one sign-in: both of its cookies stop working everywhere."""
    db.session.execute(delete(SignIn).where(SignIn.token_hash == _hash(token)))
    db.session.commit()


def end_all(user_id: int, *, commit: bool = True) -> int:
    """End every sign-in of this user (every device, every cookie); return how many."""
    result = db.session.execute(delete(SignIn).where(SignIn.user_id == user_id))
    if commit:
        db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_live(user_ids: list[int]) -> dict[int, int]:
    """Return how many sign-ins each of these users has (ended ones are gone)."""
    rows = db.session.execute(
        select(SignIn.user_id, func.count(SignIn.id))
        .where(SignIn.user_id.in_(user_ids))
        .group_by(SignIn.user_id)
    )
    return {user_id: count for user_id, count in rows}
