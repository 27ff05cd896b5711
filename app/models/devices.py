"""What we last knew of each device and of the platform's deployment groups (offline cache)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db, utcnow


class Device(db.Model):  # type: ignore[name-defined]
    __tablename__ = "devices"

    tuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(16))
    group_id: Mapped[str | None] = mapped_column(String(64))
    # "platform": read from or confirmed by the platform; "local": from an action not yet synced.
    source: Mapped[str] = mapped_column(String(16), default="local")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeploymentGroup(db.Model):  # type: ignore[name-defined]
    __tablename__ = "deployment_groups"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
