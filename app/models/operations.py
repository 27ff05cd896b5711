"""Technician actions (operations), their outbox steps and every sync attempt against the platform.

An operation is what a person did; its steps are the platform writes it needs, in order. The
steps table is the transactional outbox: it commits in the same transaction as the operation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import db, utcnow
from app.models.users import User

# Operation states, as the phone and the supervisor see them.
ACCEPTED, SYNCING, SYNCED, FAILED, CONFLICT, DISCARDED = (
    "accepted",
    "syncing",
    "synced",
    "failed",
    "conflict",
    "discarded",
)
OPERATION_STATES = (ACCEPTED, SYNCING, SYNCED, FAILED, CONFLICT, DISCARDED)

# Step states inside the outbox.
STEP_PENDING = "pending"  # waiting for a worker (maybe until available_at)
STEP_LEASED = "leased"  # a worker holds it until lease_until
STEP_DONE = "done"
STEP_FAILED = "failed"  # retrying cannot help; waits for a supervisor
STEP_BLOCKED = "blocked"  # an earlier step of the same operation failed
STEP_HELD = "held"  # operation in conflict; waits for a supervisor
STEP_CANCELLED = "cancelled"  # operation discarded or bulk job cancelled
UNFINISHED_STEP_STATES = (STEP_PENDING, STEP_LEASED)
SENT_STEP_STATES = (STEP_LEASED, STEP_DONE)  # on the platform, or on its way there

# The error_code the read-back leaves on an operation whose drift it repaired by applying the
# last action again (app.sync.reconcile); it stays as evidence after the operation is synced.
DRIFT_REPAIRED = "drift_repaired"


def _only_where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Operation(db.Model):  # type: ignore[name-defined]
    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_user_received", "user_id", "received_at"),
        Index("ix_operations_tuid_device_time", "tuid", "device_time"),
        Index("ix_operations_state_received", "state", "received_at"),
        # The history's sort orders and group filter (bench/scale.py). On PostgreSQL the
        # migration also adds a trigram index on tuid when pg_trgm is available.
        Index("ix_operations_device_time_id", "device_time", "id"),
        Index("ix_operations_received_at_id", "received_at", "id"),
        Index("ix_operations_kind_time", "kind", "device_time", "id"),
        Index("ix_operations_bulk_job_time", "bulk_job_id", "device_time", "id"),
        Index("ix_operations_seen_group_time", "seen_group", "device_time", "id"),
        Index("ix_operations_user_time", "user_id", "device_time", "id"),  # a technician's
        # The inbox's counts by error (few operations have one).
        Index("ix_operations_error_code", "error_code", **_only_where("error_code IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    tuid: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_time: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_status: Mapped[str | None] = mapped_column(String(16))
    seen_group: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=ACCEPTED)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    bulk_job_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_jobs.id"))

    user: Mapped[User] = relationship(lazy="joined")
    steps: Mapped[list[OutboxStep]] = relationship(
        back_populates="operation", order_by="OutboxStep.step_no", lazy="selectin"
    )

    @property
    def offline_delay_s(self) -> float:
        """Seconds between the action on the phone and its arrival here (never negative)."""
        return max(0.0, (self.received_at - self.device_time).total_seconds())


class OutboxStep(db.Model):  # type: ignore[name-defined]
    __tablename__ = "outbox"
    __table_args__ = (
        # Claims walk pending steps in order and stop after a handful: keep that a range scan.
        Index("ix_outbox_state_order", "state", "order_at", "id"),
        Index("ix_outbox_tuid_state_order", "tuid", "state", "order_at"),
        Index("ix_outbox_lease_owner", "lease_owner"),
        # The history's group filter: which operations put a device into a group.
        Index(
            "ix_outbox_set_group_value",
            "value",
            "operation_id",
            **_only_where("action = 'set_group'"),
        ),
        Index(
            "ix_outbox_copy_group_result",
            "result",
            "operation_id",
            **_only_where("action = 'copy_group'"),
        ),
        # The history's TUID filter: replacement devices (a copy_group step runs on the new one).
        # On PostgreSQL the migration also adds a trigram index on their tuid (pg_trgm).
        Index(
            "ix_outbox_copy_group_tuid",
            "tuid",
            "operation_id",
            **_only_where("action = 'copy_group'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    step_no: Mapped[int]
    tuid: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # set_status | set_group | copy_group
    value: Mapped[str | None] = mapped_column(String(64))
    order_at: Mapped[datetime]  # when the technician acted: per-device order key
    state: Mapped[str] = mapped_column(String(16), default=STEP_PENDING)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    outcome_uncertain: Mapped[bool] = mapped_column(default=False)
    # A write of this step went out and may land after we moved on (it timed out, its worker
    # died mid-call): its device is read back once more after the in-flight bound.
    late_write_possible: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Why a pending step waits (app.sync.step_runner RETRY_*): outage waits end when it does.
    retry_kind: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(64))
    # The platform's value just before this step wrote, when the phone did not know it
    # (app.sync.overwritten): what an undo of the operation restores.
    overwrote: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None]

    operation: Mapped[Operation] = relationship(back_populates="steps")


class SyncAttempt(db.Model):  # type: ignore[name-defined]
    __tablename__ = "sync_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    attempt_no: Mapped[int]
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(24))
    http_status: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(Text)
