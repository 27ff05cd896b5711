"""Lease due verification looks, as app.sync.checks leases read-backs."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from app.models.verifications import InstallVerification
from app.sync.outbox import new_lease
from app.verification.look import ClaimedLook
from app.verification.watch import WatchPolicy

_ROWS = InstallVerification.__table__
_NOW = bindparam("now", type_=_ROWS.c.installed_at.type)
_DUE = and_(
    _ROWS.c.due_at.is_not(None),
    _ROWS.c.due_at <= _NOW,
    or_(_ROWS.c.lease_owner.is_(None), _ROWS.c.lease_until < _NOW),
)
_LEASE = (
    _ROWS.update()
    .where(_ROWS.c.id.in_(bindparam("ids", expanding=True)), _DUE)
    .values(
        lease_owner=bindparam("token"),
        lease_until=bindparam("lease_until", type_=_ROWS.c.lease_until.type),
    )
)
_LEASED = select(
    _ROWS.c.id,
    _ROWS.c.operation_id,
    _ROWS.c.tuid,
    _ROWS.c.state,
    _ROWS.c.device_type,
    _ROWS.c.installed_at,
    _ROWS.c.deadline_at,
    _ROWS.c.failures,
    _ROWS.c.late_looks_left,
).where(_ROWS.c.lease_owner == bindparam("token"))


@lru_cache(maxsize=64)
def _due_query(postgresql: bool, limit: int) -> Select[Any]:
    query = select(_ROWS.c.id).where(_DUE).order_by(_ROWS.c.due_at).limit(limit)
    return query.with_for_update(skip_locked=True) if postgresql else query


def claim_looks(
    session: Session,
    worker: str,
    limit: int,
    now: datetime,
    lease_seconds: float,
    policy: WatchPolicy,
) -> list[ClaimedLook]:
    """Lease up to `limit` due looks (the caller commits)."""
    if limit <= 0:
        return []
    postgresql = session.get_bind().dialect.name == "postgresql"
    ids = sorted(session.scalars(_due_query(postgresql, limit), {"now": now}))
    if not ids:
        return []
    token, lease_until = new_lease(worker, now, lease_seconds)
    session.execute(_LEASE, {"ids": ids, "now": now, "token": token, "lease_until": lease_until})
    looks = []
    for row in session.execute(_LEASED, {"token": token}):
        watch = policy.for_type(row.device_type)
        looks.append(
            ClaimedLook(
                id=row.id,
                operation_id=row.operation_id,
                tuid=row.tuid,
                lease_token=token,
                state=row.state,
                installed_at=row.installed_at.timestamp(),
                deadline_at=row.deadline_at.timestamp(),
                failures=row.failures,
                poll_s=watch.poll_s,
                window_s=watch.window_s,
                late_looks_left=row.late_looks_left,
            )
        )
    return sorted(looks, key=lambda look: look.id)


_WAITING_NOW = select(_ROWS.c.id).where(_DUE).limit(1)


def looks_due(session: Session, now: datetime) -> bool:
    """Whether a look is due now (or leased by a worker that died)."""
    return session.scalar(_WAITING_NOW, {"now": now}) is not None
