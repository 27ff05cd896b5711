"""Install verification: after an install (or a replacement's new device) is synced, did the
device report to the platform after the technician installed it?

One row per installing operation. `waiting` rows carry when to look next (`due_at`); a look is
one platform read, leased the way outbox steps and read-backs are, so verification survives
restarts and spreads over any number of workers (app.verification).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db, utcnow

WAITING = "waiting"  # synced; the device has not reported since the install yet
VERIFIED = "verified"  # the device reported after the install's device time
SILENT = "silent"  # no report within the window
UNAVAILABLE = "unavailable"  # the platform cannot say when a device last reported
SUPERSEDED = "superseded"  # a later install of the same device is watched instead
WITHDRAWN = "withdrawn"  # taken out of service (removed, retired, ...) before it was verified
VERIFICATION_STATES = (WAITING, VERIFIED, SILENT, UNAVAILABLE, SUPERSEDED, WITHDRAWN)


class InstallVerification(db.Model):  # type: ignore[name-defined]
    __tablename__ = "install_verifications"
    __table_args__ = (
        # Claims: the due looks, soonest first (settled rows have no due_at).
        Index(
            "ix_install_verifications_due",
            "due_at",
            postgresql_where=text("due_at IS NOT NULL"),
            sqlite_where=text("due_at IS NOT NULL"),
        ),
        Index("ix_install_verifications_tuid", "tuid", "installed_at"),
        Index("ix_install_verifications_state", "state", "installed_at"),
        Index("ix_install_verifications_group", "group_id", "state"),
        Index("ix_install_verifications_user", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    tuid: Mapped[str] = mapped_column(String(32))  # the device installed (a replace's new one)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[str | None] = mapped_column(String(64))
    device_type: Mapped[str] = mapped_column(String(32))
    installed_at: Mapped[datetime]  # the operation's device time
    deadline_at: Mapped[datetime]  # silent when nothing was reported by then
    state: Mapped[str] = mapped_column(String(16), default=WAITING)
    due_at: Mapped[datetime | None]
    looks: Mapped[int] = mapped_column(default=0)  # platform calls spent on this install
    last_seen_at: Mapped[datetime | None]  # the device's latest event, as last read
    battery_level: Mapped[int | None]
    verified_at: Mapped[datetime | None]
    silent_at: Mapped[datetime | None]
    late_looks_left: Mapped[int] = mapped_column(default=1)  # looks after being found silent
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)  # unanswered looks in a row
    retry_kind: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
