"""Read-backs owed: devices whose platform state must be read and compared with our last action.

A row exists from the moment one of the device's steps is done until a read-back has confirmed
the platform holds the technician's last action (or a drift was repaired or held). Operations
become `synced` only once every device they touched has no row here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db

STAGE_AFTER_STEPS = 1  # right after the device's last pending step is done
STAGE_AFTER_BOUND = 2  # again once the in-flight bound has passed: our late writes have landed


class DeviceCheck(db.Model):  # type: ignore[name-defined]
    __tablename__ = "device_checks"
    __table_args__ = (Index("ix_device_checks_due_at", "due_at"),)

    tuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    due_at: Mapped[datetime]
    stage: Mapped[int] = mapped_column(default=STAGE_AFTER_STEPS)
    # Which of the device's values our steps wrote since its last confirmed read-back.
    check_status: Mapped[bool] = mapped_column(default=False)
    check_group: Mapped[bool] = mapped_column(default=False)
    late_write_possible: Mapped[bool] = mapped_column(default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    retry_kind: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
