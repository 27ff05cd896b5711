"""Rate-limit counters shared by every web process (the login limit) when Redis is not used."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db


class RateLimitCounter(db.Model):  # type: ignore[name-defined]
    """One fixed window of one limit for one client: hits so far and when the window ends."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    count: Mapped[int]
    # Seconds since the epoch, as the rate-limit library speaks them.
    expires_at: Mapped[float]
