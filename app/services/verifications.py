"""Install verification as people read it: per device, per batch, the silent list.

The worker decides states (app.verification); the one thing decided here is the device card's
free confirmation: a card opened on a device whose install is still waiting (or silent) reads
its latest event anyway, and a report after the install verifies it on the spot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select

from app.database import db, utcnow
from app.models.audit import AuditEvent
from app.models.operations import Operation
from app.models.users import User
from app.models.verifications import SILENT, VERIFIED, WAITING, InstallVerification

EXPORT_CHUNK = 1000


def latest_for_device(tuid: str) -> InstallVerification | None:
    """Return the verification of the device's latest install, if any."""
    return db.session.scalar(
        select(InstallVerification)
        .where(InstallVerification.tuid == tuid)
        .order_by(InstallVerification.installed_at.desc(), InstallVerification.id.desc())
        .limit(1)
    )


def confirm_from_card(row: InstallVerification, last_seen: int | None) -> bool:
    """Verify a waiting or silent install whose device the card saw report after it."""
    if row.state not in (WAITING, SILENT) or last_seen is None:
        return False
    if last_seen < int(row.installed_at.timestamp()):
        return False
    now = utcnow()
    previous = row.state
    row.state = VERIFIED
    row.verified_at = now
    row.last_seen_at = datetime.fromtimestamp(last_seen, UTC)
    row.due_at = None
    row.lease_owner = None
    row.updated_at = now
    db.session.add(
        AuditEvent(
            at=now,
            action="verify.verified",
            operation_id=row.operation_id,
            tuid=row.tuid,
            reason="Verified when the device card was opened: the device reported at "
            f"{row.last_seen_at.isoformat()}, after it was installed."
            + (" It had been silent; it reported late." if previous == SILENT else ""),
            details={"last_seen": row.last_seen_at.isoformat(), "source": "device card"},
        )
    )
    return True


def verification_json(row: InstallVerification | None) -> dict[str, Any] | None:
    """Serialise a verification for the card, the batch summary and the console."""
    if row is None:
        return None

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "state": row.state,
        "tuid": row.tuid,
        "group": row.group_id,
        "device_type": row.device_type,
        "installed_at": iso(row.installed_at),
        "deadline_at": iso(row.deadline_at),
        "next_look_at": iso(row.due_at),
        "last_seen_at": iso(row.last_seen_at),
        "verified_at": iso(row.verified_at),
        "silent_at": iso(row.silent_at),
        "battery_level": row.battery_level,
        "looks": row.looks,
        "platform_error": row.last_error if row.failures else None,
    }


def by_operation(op_ids: Sequence[str], user_id: int | None = None) -> dict[str, dict[str, Any]]:
    """Return the verification of each of these operations (by op_id) that has one."""
    if not op_ids:
        return {}
    query = (
        select(Operation.op_id, InstallVerification)
        .join(InstallVerification, InstallVerification.operation_id == Operation.id)
        .where(Operation.op_id.in_(list(op_ids)))
    )
    if user_id is not None:
        query = query.where(Operation.user_id == user_id)
    return {op_id: verification_json(row) or {} for op_id, row in db.session.execute(query).all()}


@dataclass
class SilentFilter:
    group: str | None = None
    technician: str | None = None  # username, case-insensitive


@dataclass
class SilentRow:
    verification: InstallVerification
    username: str
    display_name: str


def _silent_query(flt: SilentFilter) -> Select[Any]:
    query: Select[Any] = (
        select(InstallVerification, User.username, User.display_name)  # type: ignore[assignment]
        .join(User, User.id == InstallVerification.user_id)
        .where(InstallVerification.state == SILENT)
    )
    if flt.group:
        query = query.where(InstallVerification.group_id == flt.group.strip().lower())
    if flt.technician:
        query = query.where(func.lower(User.username) == flt.technician.strip().lower())
    return query


def silent_page(flt: SilentFilter, page: int, size: int) -> tuple[list[SilentRow], int]:
    """Return one page of silent installs, newest install first, and how many there are."""
    query = _silent_query(flt)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(InstallVerification.installed_at.desc(), InstallVerification.id.desc())
        .offset(page * size)
        .limit(size)
    ).all()
    return [SilentRow(*row) for row in rows], total


def iter_silent(flt: SilentFilter) -> Iterator[list[SilentRow]]:
    """Yield every silent install matching the filter, newest first, a chunk at a time."""
    query = _silent_query(flt).order_by(
        InstallVerification.installed_at.desc(), InstallVerification.id.desc()
    )
    offset = 0
    while True:
        rows = db.session.execute(query.offset(offset).limit(EXPORT_CHUNK)).all()
        yield [SilentRow(*row) for row in rows]
        if len(rows) < EXPORT_CHUNK:
            return
        offset += EXPORT_CHUNK


def silent_json(row: SilentRow) -> dict[str, Any]:
    """Serialise a silent-list row."""
    data = verification_json(row.verification) or {}
    data["technician"] = {"username": row.username, "display_name": row.display_name}
    return data
