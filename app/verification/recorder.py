"""Settle verification looks in the worker's transaction: verified, silent, or look again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert
from sqlalchemy.orm import Session

from app.models.audit import AuditEvent
from app.models.verifications import SILENT, VERIFIED, WAITING, InstallVerification
from app.sync.backoff import Backoff
from app.verification.look import GONE, RETRY, LookOutcome

_ROWS = InstallVerification.__table__
_SETTLE = (
    _ROWS.update()
    .where(and_(_ROWS.c.id == bindparam("b_id"), _ROWS.c.lease_owner == bindparam("b_token")))
    .values(
        state=bindparam("b_state"),
        due_at=bindparam("b_due_at", type_=_ROWS.c.due_at.type),
        looks=_ROWS.c.looks + bindparam("b_calls", type_=_ROWS.c.looks.type),
        # An unanswered look keeps what earlier looks read; silent_at stays the first finding.
        last_seen_at=func.coalesce(
            bindparam("b_last_seen_at", type_=_ROWS.c.last_seen_at.type), _ROWS.c.last_seen_at
        ),
        battery_level=func.coalesce(
            bindparam("b_battery", type_=_ROWS.c.battery_level.type), _ROWS.c.battery_level
        ),
        verified_at=func.coalesce(
            bindparam("b_verified_at", type_=_ROWS.c.verified_at.type), _ROWS.c.verified_at
        ),
        silent_at=func.coalesce(
            _ROWS.c.silent_at, bindparam("b_silent_at", type_=_ROWS.c.silent_at.type)
        ),
        late_looks_left=bindparam("b_late_looks_left"),
        failures=bindparam("b_failures"),
        retry_kind=bindparam("b_retry_kind"),
        last_error=bindparam("b_last_error"),
        lease_owner=None,
        lease_until=None,
        updated_at=bindparam("b_now", type_=_ROWS.c.updated_at.type),
    )
    .returning(_ROWS.c.id)
)


def _at(unix_s: float | None) -> datetime | None:
    return None if unix_s is None else datetime.fromtimestamp(unix_s, UTC)


class LookRecorder:
    """Turn look outcomes into verification states; audit events mark verified and silent."""

    def __init__(self, *, backoff: Backoff) -> None:
        self.backoff = backoff

    def record(self, session: Session, outcomes: Iterable[LookOutcome], now: datetime) -> None:
        """Persist these outcomes (the caller commits); a lost lease's outcome is dropped."""
        values = [self._values(o, now) for o in sorted(outcomes, key=lambda o: o.look.id)]
        if not values:
            return
        connection = session.connection()
        settled = set()
        for row in values:  # RETURNING with executemany is not on every driver: one by one
            if connection.execute(_SETTLE, row).first() is not None:
                settled.add(row["b_id"])
        events = [
            _audit(o, row, now)
            for o, row in zip(sorted(outcomes, key=lambda o: o.look.id), values, strict=True)
            if row["b_id"] in settled and row["b_state"] != o.look.state
        ]
        if events:
            session.execute(insert(AuditEvent), events)

    def _values(self, outcome: LookOutcome, now: datetime) -> dict[str, Any]:
        look = outcome.look
        row: dict[str, Any] = {
            "b_id": look.id,
            "b_token": look.lease_token,
            "b_state": look.state,
            "b_due_at": None,
            "b_calls": outcome.calls,
            "b_last_seen_at": _at(outcome.last_seen),
            "b_battery": outcome.battery_level,
            "b_verified_at": None,
            "b_silent_at": None,
            "b_late_looks_left": look.late_looks_left,
            "b_failures": 0,
            "b_retry_kind": None,
            "b_last_error": None,
            "b_now": now,
        }
        if outcome.kind == RETRY:
            delay = self.backoff.delay(look.failures + 1, outcome.retry_after, cap=look.poll_s)
            # An unanswered look decides nothing: the next answer does, even past the deadline.
            row.update(
                b_due_at=now + timedelta(seconds=delay),
                b_failures=look.failures + 1,
                b_retry_kind=outcome.retry_kind,
                b_last_error=outcome.message,
            )
            return row
        if outcome.kind == GONE:
            row.update(b_state=SILENT, b_silent_at=now, b_last_error=outcome.message)
            return row
        if outcome.reported_since_install:
            row.update(b_state=VERIFIED, b_verified_at=now)
            return row
        deadline = _at(look.deadline_at)
        assert deadline is not None
        if now < deadline:
            row["b_due_at"] = min(now + timedelta(seconds=look.poll_s), deadline)
            return row
        if look.state == WAITING:
            row.update(b_state=SILENT, b_silent_at=now)
        if look.late_looks_left > 0:
            # One more look a window later: a device powered on late is still found.
            row.update(
                b_due_at=now + timedelta(seconds=look.window_s),
                b_late_looks_left=look.late_looks_left - 1,
            )
        return row


def _audit(outcome: LookOutcome, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    look = outcome.look
    state = row["b_state"]
    seen = row["b_last_seen_at"]
    if state == VERIFIED:
        reason = (
            f"Verified: the device reported at {seen.isoformat() if seen else '?'}, after it was "
            "installed."
        )
        if look.state == SILENT:
            reason += " It had been silent; it reported late."
    else:
        reason = (
            outcome.message
            or "Silent: the device has not reported since it was installed. Check the battery "
            "tab, power it on, or move it closer to a gateway."
        )
    return {
        "at": now,
        "user_id": None,
        "action": f"verify.{state}",
        "operation_id": look.operation_id,
        "tuid": look.tuid,
        "reason": reason,
        "details": {
            "installed_at": _at(look.installed_at).isoformat(),  # type: ignore[union-attr]
            "last_seen": seen.isoformat() if seen else None,
            "battery_level": outcome.battery_level,
        },
    }
