"""What each phone last said about its own queue: read-only telemetry, one row per phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db


class PhoneQueueReport(db.Model):  # type: ignore[name-defined]
    __tablename__ = "phone_queue_reports"
    __table_args__ = (Index("ix_phone_queue_reports_contact", "last_contact_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    phone_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the PWA's install id
    pending: Mapped[int]
    failed: Mapped[int]
    oldest_unsynced_at: Mapped[datetime | None]  # when the oldest waiting action was made
    app_version: Mapped[str | None] = mapped_column(String(32))
    reported_at: Mapped[datetime]  # when these numbers were stored
    last_contact_at: Mapped[datetime]  # the phone's latest request (updated at most each minute)
