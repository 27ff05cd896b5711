"""A worker that never dies of a transient error, and recovers in seconds after an outage."""

from __future__ import annotations

import random
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app.database import db
from app.models.operations import Operation, OutboxStep
from app.services.operations import ingest
from app.sync.recorder import OutcomeRecorder
from app.sync.worker import SyncWorker, WorkerSettings
from tests.factories import op, platform_statuses
from tests.sync.workers import start_sync_run, start_worker_thread
from tests.waiting import wait_until

T = datetime.now(UTC) - timedelta(hours=1)


def _states(app: Any) -> set[str]:
    with app.app_context():
        states = set(db.session.scalars(select(Operation.state)))
        db.session.rollback()
        return states


def _postgresql(app: Any) -> bool:
    with app.app_context():
        return bool(db.engine.dialect.name == "postgresql")


def _terminate_other_connections(app: Any) -> None:
    """Do to every connection but ours what a PostgreSQL restart does."""
    with app.app_context():
        db.session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        db.session.commit()


def test_database_errors_are_survived_and_their_outcomes_recorded_later(
    app: Any, login: Any, emulator: Any, run_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tuids = emulator.state.add_devices(count=6)
    api = login("technician")
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="installed") for t in tuids]},
    )
    record = OutcomeRecorder.record
    failures = iter([OperationalError("UPDATE outbox", {}, Exception("deadlock detected"))] * 2)

    def flaky(self: OutcomeRecorder, *args: Any, **kwargs: Any) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        record(self, *args, **kwargs)

    monkeypatch.setattr(OutcomeRecorder, "record", flaky)

    worker = run_worker()

    assert worker.troubles == 2
    assert _states(app) == {"synced"}
    for tuid in tuids:
        assert platform_statuses(emulator, tuid) == ["new", "installed"]


def test_a_lost_database_connection_is_survived(app: Any, login: Any, emulator: Any) -> None:
    if not _postgresql(app):
        pytest.skip("terminating server connections is PostgreSQL's")
    tuids = emulator.state.add_devices(count=24)
    emulator.state.create_group("prfi00site")
    api = login("technician")
    api.post(
        "/api/operations",
        json={"operations": [op("install", t, at=T, group_id="prfi00site") for t in tuids]},
    )
    emulator.state.update_settings(latency_ms=40)
    worker, thread = start_worker_thread(app, concurrency=4)
    wait_until(lambda: worker.completed >= 6, what="the worker to be busy")
    _terminate_other_connections(app)
    thread.join(60)

    assert not thread.is_alive()
    assert _states(app) == {"synced"}
    for tuid in tuids:
        assert platform_statuses(emulator, tuid) == ["new", "installed"]
        assert emulator.state.group_of(tuid) == "prfi00site"


def test_ingest_and_the_worker_never_deadlock_on_devices(
    app: Any, make_user: Any, emulator: Any
) -> None:
    if not _postgresql(app):
        pytest.skip("row locks and deadlock detection are PostgreSQL's")
    tuids = emulator.state.add_devices(count=60)
    user_id = make_user("tech")
    with app.app_context():
        deadlocks_before = db.session.scalar(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        )
        db.session.rollback()
    worker, thread = start_worker_thread(app, concurrency=8)
    errors: list[BaseException] = []

    def phone(seed: int) -> None:
        shuffled = random.Random(seed)
        try:
            with app.app_context():
                from app.models.users import User

                user = db.session.get(User, user_id)
                for batch in range(6):
                    chosen = shuffled.sample(tuids, 40)  # overlapping devices, random order
                    at = T + timedelta(minutes=batch, seconds=seed)
                    ingest([op("set_status", t, at=at, status="installed") for t in chosen], user)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    phones = [threading.Thread(target=phone, args=(seed,)) for seed in range(4)]
    for t in phones:
        t.start()
    for t in phones:
        t.join(60)
    thread.join(60)
    # Steps ingested after the worker went idle.
    SyncWorker(app, WorkerSettings.from_config(app.config)).run(until_idle=True)

    assert errors == []
    assert worker.troubles == 0
    with app.app_context():
        deadlocks_after = db.session.scalar(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        )
        assert deadlocks_after == deadlocks_before
        db.session.rollback()


def test_the_end_of_an_outage_releases_every_waiting_step_at_once(
    app: Any, login: Any, emulator: Any
) -> None:
    tuids = emulator.state.add_devices(count=12)
    api = login("technician")
    emulator.state.update_settings(outage="503")
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="retired") for t in tuids]},
    )
    # Backoff so long that only the breaker's release can finish the work in time.
    worker, thread = start_worker_thread(app, concurrency=4, backoff_base=30.0, backoff_cap=60.0)

    def failed_waits() -> list[datetime]:
        with app.app_context():
            waits = list(
                db.session.scalars(
                    select(OutboxStep.available_at).where(OutboxStep.retry_kind == "unavailable")
                )
            )
            db.session.rollback()
            return waits

    wait_until(lambda: worker.breaker.is_open, what="the breaker to open")
    wait_until(lambda: len(failed_waits()) >= 8, what="the failures to be recorded")
    assert min(failed_waits()) > datetime.now(UTC) + timedelta(seconds=10)

    emulator.state.update_settings(outage="")
    thread.join(10)  # well under the 15 s minimum backoff

    assert not thread.is_alive(), "the steps kept waiting for their backoff"
    assert _states(app) == {"synced"}
    for tuid in tuids:
        assert platform_statuses(emulator, tuid) == ["new", "retired"]


def test_dropped_connections_during_an_outage_end_without_duplicates(
    app: Any, login: Any, emulator: Any
) -> None:
    tuids = emulator.state.add_devices(count=10)
    api = login("technician")
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="installed") for t in tuids]},
    )
    emulator.state.update_settings(outage="drop")
    worker, thread = start_worker_thread(app, concurrency=4)
    wait_until(lambda: worker.breaker.is_open, what="the breaker to open")
    emulator.state.update_settings(outage="")
    thread.join(30)

    assert not thread.is_alive()
    assert _states(app) == {"synced"}
    for tuid in tuids:
        assert platform_statuses(emulator, tuid) == ["new", "installed"]


def test_sync_run_outlives_a_database_restart_and_stops_on_a_signal(
    app: Any, app_config: dict[str, Any], login: Any, emulator: Any
) -> None:
    if not _postgresql(app):
        pytest.skip("terminating server connections is PostgreSQL's")
    worker = start_sync_run(app_config, emulator, PLATFORM_INFLIGHT_BOUND_S="2")
    try:
        tuids = emulator.state.add_devices(count=4)
        api = login("technician")
        api.post(
            "/api/operations",
            json={"operations": [op("set_status", t, at=T, status="installed") for t in tuids]},
        )
        wait_until(lambda: _states(app) == {"synced"}, what="the first batch")
        _terminate_other_connections(app)
        more = emulator.state.add_devices(count=4)
        api.post(
            "/api/operations",
            json={"operations": [op("set_status", t, at=T, status="quarantine") for t in more]},
        )
        wait_until(lambda: _states(app) == {"synced"}, what="the batch after the restart")
        assert worker.poll() is None, "sync run exited on its own"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        if worker.stderr:
            worker.stderr.close()
