"""Record step outcomes: attempts, step and operation states, the device cache, read-backs owed.

Set-based statements, not ORM objects: this runs on the worker's single database thread for
every platform call, so its cost bounds the worker's throughput. Rows are written in one order
everywhere (steps and operations by id, devices and read-backs by TUID), so two workers, or a
worker and ingest, cannot deadlock on them.

An operation whose last step is done stays `syncing`: it becomes `synced` only when a read-back
of its devices shows the platform holds the technician's last action (app.sync.reconcile).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, case, literal_column, or_, select, update
from sqlalchemy.orm import Session

from app.models.operations import (
    CONFLICT,
    DISCARDED,
    FAILED,
    STEP_BLOCKED,
    STEP_DONE,
    STEP_FAILED,
    STEP_LEASED,
    STEP_PENDING,
    SYNCING,
    Operation,
    OutboxStep,
    SyncAttempt,
)
from app.sync.backoff import Backoff
from app.sync.checks import CheckWanted, schedule_checks
from app.sync.device_cache import DEVICE_COLUMNS, SOURCE_PLATFORM, remember_devices
from app.sync.reconcile import DRIFT_REPAIRED
from app.sync.step_runner import StepOutcome

_STEPS = OutboxStep.__table__
_OPERATIONS = Operation.__table__
# How close to its end we stop trusting our own clock about a lease and ask the database.
LEASE_SAFETY_S = 5.0

# Core executemany statements with one parameter set per row: the ORM's bulk-update path costs
# more Python per row than SQLite spends executing it.
_STEP_RESULT = (
    _STEPS.update()
    .where(
        _STEPS.c.id == bindparam("b_id"),
        _STEPS.c.lease_owner == bindparam("b_token"),
        _STEPS.c.state == STEP_LEASED,
    )
    .values(
        state=bindparam("b_state"),
        result=bindparam("b_result"),
        completed_at=bindparam("b_completed_at"),
        available_at=bindparam("b_available_at"),
        last_error=bindparam("b_last_error"),
        outcome_uncertain=bindparam("b_outcome_uncertain"),
        late_write_possible=or_(_STEPS.c.late_write_possible, bindparam("b_late")),
        retry_kind=bindparam("b_retry_kind"),
        lease_owner=None,
        lease_until=None,
    )
)
# A repaired drift stays on the operation as evidence until it fails for another reason.
_KEEP_DRIFT = and_(
    _OPERATIONS.c.error_code == literal_column(f"'{DRIFT_REPAIRED}'"),
    bindparam("b_state") != literal_column(f"'{FAILED}'"),
)
_OPERATION_STATE = (
    _OPERATIONS.update()
    .where(
        _OPERATIONS.c.id == bindparam("b_id"),
        # Literals, not an expanding IN: executemany cannot expand parameters.
        _OPERATIONS.c.state != literal_column(f"'{CONFLICT}'"),
        _OPERATIONS.c.state != literal_column(f"'{DISCARDED}'"),
    )
    .values(
        state=bindparam("b_state"),
        synced_at=None,
        error_code=case((_KEEP_DRIFT, _OPERATIONS.c.error_code), else_=bindparam("b_error_code")),
        error_message=case(
            (_KEEP_DRIFT, _OPERATIONS.c.error_message), else_=bindparam("b_error_message")
        ),
        updated_at=bindparam("b_updated_at"),
    )
)


class OutcomeRecorder:
    """Write step outcomes in the caller's transaction."""

    def __init__(
        self,
        *,
        worker: str,
        backoff: Backoff,
        inflight_bound: float = 0.0,
        max_attempts: int = 0,
    ) -> None:
        self.worker = worker
        self.backoff = backoff
        self.inflight_bound = inflight_bound
        self.max_attempts = max_attempts

    def record(self, session: Session, outcomes: Iterable[StepOutcome], now: datetime) -> None:
        """Persist these outcomes (the caller commits)."""
        outcomes = sorted(outcomes, key=lambda o: o.step.id)
        if not outcomes:
            return
        connection = session.connection()
        connection.execute(SyncAttempt.__table__.insert(), [self._attempt_row(o) for o in outcomes])
        current = [o for o in outcomes if o.step.lease_until - LEASE_SAFETY_S > now.timestamp()]
        if len(current) < len(outcomes):
            current += self._still_ours([o for o in outcomes if o not in current], session)
            current.sort(key=lambda o: o.step.id)
        step_updates = [self._step_update(o, now) for o in current]
        if step_updates:
            connection.execute(_STEP_RESULT, step_updates)
        done: list[StepOutcome] = []
        failed: list[StepOutcome] = []
        for outcome, values in zip(current, step_updates, strict=True):
            if values["b_state"] == STEP_DONE:
                done.append(outcome)
            elif values["b_state"] == STEP_FAILED:
                failed.append(outcome)
                session.execute(
                    update(OutboxStep)
                    .where(
                        OutboxStep.operation_id == outcome.step.operation_id,
                        OutboxStep.step_no > outcome.step.step_no,
                        OutboxStep.state == STEP_PENDING,
                    )
                    .values(state=STEP_BLOCKED)
                )
        self._confirm_done(session, done, failed, now)
        operation_updates = sorted(
            (
                _operation_after(o, str(values["b_state"]), now)
                for o, values in zip(current, step_updates, strict=True)
            ),
            key=lambda v: int(v["b_id"]),  # type: ignore[call-overload]
        )
        if operation_updates:
            connection.execute(_OPERATION_STATE, operation_updates)

    @staticmethod
    def _confirm_done(
        session: Session, done: list[StepOutcome], failed: list[StepOutcome], now: datetime
    ) -> None:
        """Cache what done steps put on the platform, and owe their devices a read-back.

        A failed step adds nothing to read, but its device may have been waiting for it to be
        read back (app.sync.reconcile.claim_checks): it is due now.
        """
        values: dict[str, dict[str, str | None]] = {}
        wanted: dict[str, CheckWanted] = {outcome.step.tuid: CheckWanted() for outcome in failed}
        for outcome in done:
            step = outcome.step
            is_status = step.action == "set_status"
            values.setdefault(step.tuid, {})[DEVICE_COLUMNS[step.action]] = outcome.result
            check = wanted.setdefault(step.tuid, CheckWanted())
            check.status |= is_status
            check.group |= not is_status
            check.late_write_possible |= step.late_write_possible
        remember_devices(session, values, source=SOURCE_PLATFORM, now=now)
        schedule_checks(session, wanted, now)

    @staticmethod
    def _still_ours(outcomes: list[StepOutcome], session: Session) -> list[StepOutcome]:
        """Keep the outcomes whose lease nobody took over (ours ran past its lease time)."""
        owners = {
            row.id: row.lease_owner
            for row in session.execute(
                select(OutboxStep.id, OutboxStep.lease_owner).where(
                    OutboxStep.id.in_([o.step.id for o in outcomes]),
                    OutboxStep.state == STEP_LEASED,
                )
            )
        }
        # Another worker that took over will read the platform before writing again.
        return [o for o in outcomes if owners.get(o.step.id) == o.step.lease_token]

    def _attempt_row(self, outcome: StepOutcome) -> dict[str, object]:
        return {
            "step_id": outcome.step.id,
            "operation_id": outcome.step.operation_id,
            "attempt_no": outcome.step.attempt_no,
            "worker": self.worker[:64],
            "started_at": _from_ts(outcome.started_at),
            "finished_at": _from_ts(outcome.finished_at),
            "outcome": outcome.kind,
            "http_status": outcome.http_status,
            "message": outcome.message,
        }

    def _step_update(self, outcome: StepOutcome, now: datetime) -> dict[str, object]:
        values: dict[str, object] = {
            "b_id": outcome.step.id,
            "b_token": outcome.step.lease_token,
            "b_result": None,
            "b_completed_at": None,
            "b_available_at": now,
            "b_last_error": outcome.message,
            "b_outcome_uncertain": outcome.outcome_uncertain,
            "b_late": outcome.in_flight,
            "b_retry_kind": outcome.retry_kind,
        }
        if outcome.kind in ("applied", "already_applied"):
            values.update(
                b_state=STEP_DONE,
                b_result=outcome.result,
                b_completed_at=now,
                b_last_error=None,
                b_outcome_uncertain=False,
                b_retry_kind=None,
            )
            return values
        attempts = outcome.step.attempt_no
        gave_up = self.max_attempts and attempts >= self.max_attempts
        if outcome.kind == "retry" and not gave_up:
            delay = self.backoff.delay(attempts, outcome.retry_after)
            available = now + timedelta(seconds=delay)
            if outcome.in_flight and outcome.write_sent_at is not None:
                # Read the platform only once our write can no longer land: a read before
                # then may see the old value, and a second write would then be overtaken by
                # the first (or by one of the device's later actions). That wait is the
                # backoff: growing it further would only delay recovery after an outage.
                available = _from_ts(outcome.write_sent_at + self.inflight_bound)
            values.update(b_state=STEP_PENDING, b_available_at=available)
        else:
            values.update(b_state=STEP_FAILED)
        return values


def _operation_after(outcome: StepOutcome, step_state: str, now: datetime) -> dict[str, object]:
    """The operation's state once this step's outcome is known.

    Earlier steps of an operation are done before a later one is claimed, so the step's own
    outcome decides the operation's state without a query. Done with every step, it waits in
    `syncing` for the read-back (app.sync.reconcile marks it `synced`).
    """
    values: dict[str, object] = {
        "b_id": outcome.step.operation_id,
        "b_updated_at": now,
        "b_state": SYNCING,
        "b_error_code": None,
        "b_error_message": None,
    }
    if step_state == STEP_FAILED:
        values.update(
            b_state=FAILED, b_error_code="platform_rejected", b_error_message=outcome.message
        )
    elif step_state == STEP_PENDING:
        values.update(b_error_code="retrying", b_error_message=outcome.message)
    return values


def _from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
