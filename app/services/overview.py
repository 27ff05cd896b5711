"""The fleet at a glance: aggregate queries for the console's overview, no row is read whole.

Each figure is one GROUP BY over an index the history already has (operations by kind and
device time; devices; verifications by state and install time), so the page stays quick at a
large fleet. Only the biggest groups and busiest technicians get their own bar or line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.database import db
from app.models.devices import Device
from app.models.operations import Operation
from app.models.users import User
from app.models.verifications import InstallVerification
from app.services.inbox import inbox_counts
from app.services.queue_health import attention_count
from app.verification.schedule import INSTALLING_KINDS

TOP_GROUPS = 12
TOP_TECHNICIANS = 8
DAYS = 30


@dataclass(frozen=True)
class OverviewWindow:
    start: datetime  # the first day shown, 00:00 UTC
    end: datetime


def _day(column: Any) -> Any:
    """The UTC calendar day of a timestamp column, as text YYYY-MM-DD on both databases."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def devices_by_group(limit: int = TOP_GROUPS) -> dict[str, Any]:
    """Devices per installation status in the largest groups (our cache of the platform)."""
    group = func.coalesce(Device.group_id, "unassigned")
    totals = db.session.execute(
        select(group, func.count()).group_by(group).order_by(func.count().desc()).limit(limit)
    ).all()
    shown = [g for g, _ in totals]
    counts: dict[str, dict[str, int]] = {g: {} for g in shown}
    if shown:
        status = func.coalesce(Device.status, "unknown")
        for g, s, n in db.session.execute(
            select(group, status, func.count()).where(group.in_(shown)).group_by(group, status)
        ):
            counts[g][s] = n
    return {"groups": [{"group": g, "statuses": counts[g]} for g in shown]}


def installs_per_day(window: OverviewWindow, limit: int = TOP_TECHNICIANS) -> dict[str, Any]:
    """Installs (and replacements) per day per technician; the busiest get a line each."""
    day = _day(Operation.device_time)
    rows = db.session.execute(
        select(Operation.user_id, day, func.count())
        .where(
            Operation.kind.in_(INSTALLING_KINDS),
            Operation.device_time >= window.start,
            Operation.device_time < window.end,
        )
        .group_by(Operation.user_id, day)
    ).all()
    per_user: dict[int, int] = {}
    for user_id, _, n in rows:
        per_user[user_id] = per_user.get(user_id, 0) + n
    busiest = sorted(per_user, key=lambda u: (-per_user[u], u))[:limit]
    names = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(busiest or [-1])))}
    days = [
        (window.start + timedelta(days=i)).date().isoformat()
        for i in range((window.end - window.start).days)
    ]
    index = {d: i for i, d in enumerate(days)}
    series = {u: [0] * len(days) for u in busiest}
    others = [0] * len(days)
    for user_id, d, n in rows:
        if d not in index:
            continue
        series.get(user_id, others)[index[d]] += n
    return {
        "days": days,
        "technicians": [
            {
                "username": names[u].username,
                "display_name": names[u].display_name,
                "counts": series[u],
                "total": per_user[u],
            }
            for u in busiest
            if u in names
        ],
        "others": others if any(others) else None,
    }


def verification_counts(window: OverviewWindow) -> dict[str, int]:
    """Installs of the window by verification state."""
    rows = db.session.execute(
        select(InstallVerification.state, func.count())
        .where(
            InstallVerification.installed_at >= window.start,
            InstallVerification.installed_at < window.end,
        )
        .group_by(InstallVerification.state)
    )
    counts = {"verified": 0, "waiting": 0, "silent": 0, "unavailable": 0}
    counts.update({state: n for state, n in rows if state in counts})
    return counts


def overview(now: datetime, days: int = DAYS) -> dict[str, Any]:
    """Everything the overview page shows."""
    start = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo) - timedelta(days=days - 1)
    window = OverviewWindow(start, start + timedelta(days=days))
    inbox = inbox_counts()
    return {
        "window": {"from": window.start.date().isoformat(), "days": days},
        "devices": devices_by_group(),
        "installs": installs_per_day(window),
        "verification": verification_counts(window),
        "phones_needing_attention": attention_count(now),
        "sync_failures": {"failed": inbox.get("failed", 0), "conflict": inbox.get("conflict", 0)},
    }
