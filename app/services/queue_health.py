"""Queue health: phones report their outbox (pending, oldest unsynced, failed, app version)
whenever they talk to the backend; supervisors see whose queue is old or stuck.

Telemetry only: nothing here reads or changes a queue, and the stored size is bounded (one row
per phone, at most MAX_PHONES_PER_USER per technician, values clamped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from app.database import db
from app.models.queue_reports import PhoneQueueReport
from app.models.users import User

MAX_REPORT_BYTES = 512
MAX_PHONES_PER_USER = 5
MAX_COUNT = 1_000_000
WRITE_EVERY_S = 60  # an unchanged report refreshes last contact at most this often
OLD_QUEUE_S = 2 * 3600  # an action waiting longer than this makes a queue "old"


@dataclass(frozen=True)
class QueueReport:
    phone_id: str
    pending: int
    failed: int
    oldest_s: float | None  # age of the oldest unsynced action on the phone, seconds
    app_version: str | None


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("counts are numbers")
    return int(min(max(value, 0), MAX_COUNT))


def parse_report(raw: str | None) -> QueueReport | None:
    """Parse the X-Fieldhand-Queue header (compact JSON); None when absent or malformed."""
    if not raw or len(raw) > MAX_REPORT_BYTES:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            return None
        phone = str(data.get("phone") or "")[:40]
        if not phone:
            return None
        oldest = data.get("oldest_s")
        version = data.get("version")
        return QueueReport(
            phone_id=phone,
            pending=_count(data.get("pending", 0)),
            failed=_count(data.get("failed", 0)),
            oldest_s=None if oldest is None else float(_count(oldest)),
            app_version=str(version)[:32] if version else None,
        )
    except (ValueError, TypeError):
        return None


def record_report(user_id: int, report: QueueReport, now: datetime) -> bool:
    """Store a phone's report (commits); skip it when nothing changed within a minute."""
    row = db.session.get(PhoneQueueReport, (user_id, report.phone_id))
    oldest_at = None if report.oldest_s is None else now - timedelta(seconds=report.oldest_s)
    if row is not None:
        unchanged = (
            row.pending == report.pending
            and row.failed == report.failed
            and row.app_version == report.app_version
            and (row.oldest_unsynced_at is None) == (oldest_at is None)
        )
        if unchanged and (now - row.last_contact_at).total_seconds() < WRITE_EVERY_S:
            return False
    else:
        row = PhoneQueueReport(user_id=user_id, phone_id=report.phone_id)
        db.session.add(row)
    row.pending, row.failed = report.pending, report.failed
    row.oldest_unsynced_at = oldest_at
    row.app_version = report.app_version
    row.reported_at = row.last_contact_at = now
    db.session.flush()
    # Bounded: a technician's phones beyond the most recent few are forgotten.
    keep = select(PhoneQueueReport.phone_id).where(PhoneQueueReport.user_id == user_id)
    keep = keep.order_by(PhoneQueueReport.last_contact_at.desc()).limit(MAX_PHONES_PER_USER)
    db.session.execute(
        delete(PhoneQueueReport).where(
            PhoneQueueReport.user_id == user_id,
            PhoneQueueReport.phone_id.not_in(list(db.session.scalars(keep))),
        )
    )
    db.session.commit()
    return True


def phone_json(row: PhoneQueueReport, user: User, now: datetime) -> dict[str, Any]:
    """Serialise one phone's queue for the console, with why it needs a look."""
    oldest_s = (
        None
        if row.oldest_unsynced_at is None or row.pending == 0
        else max(0.0, (now - row.oldest_unsynced_at).total_seconds())
    )
    reasons = []
    if oldest_s is not None and oldest_s > OLD_QUEUE_S:
        reasons.append("old")
    if row.failed > 0:
        reasons.append("failed")
    return {
        "technician": {"username": user.username, "display_name": user.display_name},
        "phone_id": row.phone_id,
        "pending": row.pending,
        "failed": row.failed,
        "oldest_unsynced_at": row.oldest_unsynced_at.isoformat()
        if row.oldest_unsynced_at
        else None,
        "oldest_unsynced_s": None if oldest_s is None else round(oldest_s),
        "app_version": row.app_version,
        "last_contact_at": row.last_contact_at.isoformat(),
        "needs_attention": reasons,
    }


def queue_health(now: datetime, only_attention: bool = False) -> list[dict[str, Any]]:
    """Every phone's latest report, those needing attention first, then by last contact."""
    rows = db.session.execute(
        select(PhoneQueueReport, User).join(User, User.id == PhoneQueueReport.user_id)
    ).all()
    phones = [phone_json(row, user, now) for row, user in rows]
    if only_attention:
        phones = [p for p in phones if p["needs_attention"]]
    phones.sort(key=lambda p: p["last_contact_at"], reverse=True)
    phones.sort(key=lambda p: not p["needs_attention"])
    return phones


def attention_count(now: datetime) -> int:
    """How many phones have an old or stuck queue (the overview's number)."""
    return len(queue_health(now, only_attention=True))
