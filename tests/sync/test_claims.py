"""Leases: two workers never hold the same step; expired leases come back marked uncertain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.database import db
from app.models.operations import OutboxStep
from app.sync.outbox import claim_steps
from tests.factories import op

T = datetime.now(UTC) - timedelta(hours=1)


def _engine(app: Any) -> Any:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    return create_engine(
        url, connect_args=app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})
    )


def test_two_workers_claiming_concurrently_never_share_a_step(app: Any, login: Any) -> None:
    api = login("technician")
    tuids = [f"TSPR04CLAIM{i:06d}" for i in range(120)]
    for start in range(0, 120, 60):
        chunk = tuids[start : start + 60]
        api.post(
            "/api/operations",
            json={"operations": [op("install", t, at=T, group_id="g1") for t in chunk]},
        )
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)
    engines = {name: _engine(app) for name in claimed}

    def claim_all(name: str) -> None:
        with Session(engines[name]) as session:
            barrier.wait()
            for _ in range(200):
                got = claim_steps(session, name, 7, datetime.now(UTC), 300)
                claimed[name].extend(s.id for s in got)
                if not got and len(claimed["a"]) + len(claimed["b"]) >= 120:
                    break

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for engine in engines.values():
        engine.dispose()

    assert not set(claimed["a"]) & set(claimed["b"])
    # Only the first step of each device is claimable while the second waits behind it.
    assert len(claimed["a"]) + len(claimed["b"]) == 120
    with app.app_context():
        steps = db.session.scalars(
            select(OutboxStep).where(OutboxStep.id.in_(claimed["a"] + claimed["b"]))
        )
        assert {(s.step_no, s.state) for s in steps} == {(0, "leased")}


def test_steps_of_one_device_are_claimed_one_at_a_time_in_order(app: Any, login: Any) -> None:
    api = login("technician")
    tuid = "TSPR04ORDER000001"
    api.post(
        "/api/operations",
        json={
            "operations": [
                op("set_status", tuid, at=T, minutes=2, status="quarantine"),
                op("install", tuid, at=T, group_id="g1"),
            ]
        },
    )
    with app.app_context():
        first = claim_steps(db.session, "w", 10, datetime.now(UTC), 300)
        assert [(s.action, s.value) for s in first] == [("set_status", "installed")]
        assert claim_steps(db.session, "w", 10, datetime.now(UTC), 300) == []


def test_an_expired_lease_is_reclaimed_and_marked_for_verification(app: Any, login: Any) -> None:
    api = login("technician")
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", "TSPR04LEASE000001", at=T, status="installed")]},
    )
    with app.app_context():
        now = datetime.now(UTC)
        (first,) = claim_steps(db.session, "dead-worker", 10, now, lease_seconds=30)
        assert not first.verify_first
        assert claim_steps(db.session, "other", 10, now + timedelta(seconds=10), 30) == []
        (again,) = claim_steps(db.session, "other", 10, now + timedelta(seconds=31), 30)
        assert again.id == first.id
        assert again.verify_first
        assert again.attempt_no == 2
