"""Bulk jobs: a supervisor's retire/quarantine/uninstall/move over many devices, with progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import db, utcnow


class BulkJob(db.Model):  # type: ignore[name-defined]
    __tablename__ = "bulk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # retire|quarantine|uninstall|move
    target_group: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # list|csv|group
    source_detail: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="preview")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BulkJobItem(db.Model):  # type: ignore[name-defined]
    __tablename__ = "bulk_job_items"
    __table_args__ = (Index("ix_bulk_job_items_job_verdict", "job_id", "verdict"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_jobs.id"), index=True)
    line_no: Mapped[int]
    raw: Mapped[str] = mapped_column(String(200))
    tuid: Mapped[str | None] = mapped_column(String(32))
    # change | already | unknown | duplicate | invalid
    verdict: Mapped[str] = mapped_column(String(16))
    current_status: Mapped[str | None] = mapped_column(String(16))
    current_group: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
