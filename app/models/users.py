"""People who sign in: technicians, supervisors and admins."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db, utcnow

ROLES = ("technician", "supervisor", "admin")


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sign-in this loaded object was resumed or started under; per request, not a column.
    __allow_unmapped__ = True  # lets the plain attribute below be annotated
    _sign_in_token: str | None = None

    @property
    def is_active(self) -> bool:
        return self.active

    def attach_sign_in(self, token: str) -> None:
        """Tie this loaded user to the sign-in whose token its cookies carry."""
        self._sign_in_token = token

    def sign_in_token(self) -> str | None:
        """Return the token of the sign-in this request runs under, if any."""
        return self._sign_in_token

    def get_id(self) -> str:
        """Return what flask-login puts in the session and remember cookies: the sign-in token."""
        token = self.sign_in_token()
        if token is None:
            raise RuntimeError("user has no sign-in; start one with services.sign_ins.start")
        return token
