"""Writes slower than the client's timeout: resolved only once they can no longer land, and the
device read back so that the platform ends in the technician's last action (issue #11, case 1).

The app runs with a 3 s in-flight bound and a 0.5 s client timeout; the emulator stalls writes
(its stall sleeps before applying, so a stalled write lands after the client gave up).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.database import db
from app.models.audit import AuditEvent
from app.models.device_checks import DeviceCheck
from app.models.operations import Operation
from app.sync.worker import SyncWorker
from tests.factories import op, platform_statuses
from tests.sync.workers import start_worker_thread
from tests.waiting import wait_until

T = datetime.now(UTC) - timedelta(hours=1)
BOUND_S = 3.0
INSTALL_WRITES = {"stall_paths": ["/installations"], "stall_methods": ["POST"]}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PLATFORM_TIMEOUT_S": 0.5, "PLATFORM_INFLIGHT_BOUND_S": BOUND_S}


@contextmanager
def worker_in_background(app: Any, **overrides: Any) -> Iterator[SyncWorker]:
    """Run a worker until idle in a thread; the block ends when it has finished."""
    worker, thread = start_worker_thread(app, **overrides)
    try:
        yield worker
    finally:
        thread.join(60)
        assert not thread.is_alive(), "the worker did not finish"


def _operations(app: Any) -> dict[str, Operation]:
    with app.app_context():
        ops = list(db.session.scalars(select(Operation)))
        db.session.expunge_all()
        return {o.op_id: o for o in ops}


def _install_then_quarantine(api: Any, tuids: list[str]) -> tuple[list[str], list[str]]:
    first = [op("set_status", t, at=T, status="installed") for t in tuids]
    second = [op("set_status", t, at=T, minutes=1, status="quarantine") for t in tuids]
    response = api.post("/api/operations", json={"operations": first + second})
    assert response.status_code == 200
    return [o["op_id"] for o in first], [o["op_id"] for o in second]


def test_a_write_that_outlives_the_client_timeout_is_verified_only_after_it_landed(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=20)
    api = login("technician")
    # Every other status write stalls 1 s: the client gives up after 0.5 s, the write lands
    # at 1 s, inside the 3 s in-flight bound.
    emulator.state.update_settings(stall_ms=1000, stall_share=0.5, **INSTALL_WRITES)
    installs, quarantines = _install_then_quarantine(api, tuids)

    worker = run_worker(concurrency=8)

    for tuid in tuids:
        # No duplicate entry and no late write overtaking the newer action.
        assert platform_statuses(emulator, tuid) == ["new", "installed", "quarantine"], tuid
    states = {o.op_id: o.state for o in _operations(app).values()}
    assert {states[i] for i in installs + quarantines} == {"synced"}
    assert worker.completed == 40
    with app.app_context():
        assert db.session.scalar(select(DeviceCheck.tuid)) is None


def test_a_write_landing_after_the_bound_is_repaired_by_the_second_read_back(
    app: Any, login: Any, emulator: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    api = login("technician")
    # The first status write stalls 4.5 s, past the 3 s bound (issue #11's 40 s stall, scaled):
    # the worker reads "new" at 3 s, writes "installed" and "quarantine" again, and only then
    # (1.4 s later) does the stalled write land, 1.6 s before the second read-back.
    emulator.state.update_settings(stall_ms=4500, **INSTALL_WRITES)
    installs, quarantines = _install_then_quarantine(api, [tuid])

    with worker_in_background(app, concurrency=4):
        wait_until(
            lambda: any(c.method == "POST" for c in emulator.state.call_log), what="first write"
        )
        emulator.state.update_settings(stall_ms=0)  # later writes are answered at once

    # The late write overturned the device; the read-back after the bound put it back.
    statuses = platform_statuses(emulator, tuid)
    assert statuses == ["new", "installed", "quarantine", "installed", "quarantine"], statuses
    ops = _operations(app)
    assert ops[installs[0]].state == "synced"
    repaired = ops[quarantines[0]]
    assert repaired.state == "synced"
    assert repaired.error_code == "drift_repaired"
    assert "'installed'" in (repaired.error_message or "")
    assert "'quarantine'" in (repaired.error_message or "")
    with app.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.tuid == tuid))
        assert event.action == "sync.drift_repaired"
        assert event.details["found"] == "installed"
        assert event.details["expected"] == "quarantine"
        assert event.details["read_back"] == "after the in-flight bound"
    # The device's history shows the repair, with the evidence.
    supervisor = login("supervisor")
    timeline = supervisor.get(f"/api/history/devices/{tuid}").json
    (audit,) = [e["audit"] for e in timeline["events"] if e["type"] == "audit"]
    assert audit["action"] == "sync.drift_repaired"
    assert "landed late" in audit["reason"]
    # So does the inbox: counted apart from what waits for a decision, listed on request.
    inbox = supervisor.get("/api/inbox").json
    assert inbox["counts"]["drift_repaired"] == 1
    assert quarantines[0] not in [item["op_id"] for item in inbox["items"]]
    listed = supervisor.get("/api/inbox?state=drift_repaired").json["items"]
    assert [item["op_id"] for item in listed] == [quarantines[0]]
    assert listed[0]["state"] == "synced"
    assert "landed late" in listed[0]["error"]["message"]


def test_a_change_nobody_of_ours_made_is_held_for_the_supervisor_with_both_values(
    app: Any, login: Any, emulator: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    api = login("technician")
    # Our write applies but its answer is lost (504): unknown outcome, read again after the bound.
    emulator.state.update_settings(
        fail_next_after_apply=[{"status": 504, "method": "POST", "path": "/installations"}]
    )
    item = op("set_status", tuid, at=T, status="installed")
    api.post("/api/operations", json={"operations": [item]})

    with worker_in_background(app, concurrency=2):

        def waiting_for_second_read_back() -> bool:
            with app.app_context():
                check = db.session.get(DeviceCheck, tuid)
                db.session.rollback()
                return check is not None and check.stage == 2

        wait_until(waiting_for_second_read_back, timeout=15, what="the second read-back")
        # Someone else (another tool) retires the device meanwhile.
        emulator.state.set_installation_status(tuid, "retired", "toolbox")

    held = _operations(app)[item["op_id"]]
    assert held.state == "conflict"
    assert held.error_code == "drift"
    assert "'retired'" in (held.error_message or "") and "'installed'" in (held.error_message or "")
    assert "toolbox" in (held.error_message or "")
    supervisor = login("supervisor")
    inbox = supervisor.get("/api/inbox").json
    assert [i["op_id"] for i in inbox["items"]] == [item["op_id"]]
    assert platform_statuses(emulator, tuid) == ["new", "installed", "retired"]

    # "Apply anyway" sets the technician's action again, and only that.
    decided = supervisor.post(f"/api/inbox/{item['op_id']}/retry", json={})
    assert decided.status_code == 200, decided.json
    with worker_in_background(app, concurrency=2):
        pass
    assert platform_statuses(emulator, tuid) == ["new", "installed", "retired", "installed"]
    assert _operations(app)[item["op_id"]].state == "synced"


def test_later_steps_of_a_device_wait_for_an_unknown_outcome(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    api = login("technician")
    emulator.state.update_settings(stall_ms=1000, **INSTALL_WRITES)
    _install_then_quarantine(api, [tuid])

    run_worker(concurrency=4)

    posts = [c for c in emulator.state.call_log if c.method == "POST" and "install" in c.path]
    reads = [c for c in emulator.state.call_log if c.method == "GET" and "install" in c.path]
    # The quarantine write went out only after the first write's outcome was read back, and
    # that read came at least one in-flight bound after the write was sent.
    assert len(posts) == 2
    verify = next(c for c in reads if c.time > posts[0].time)
    # The bound runs from when the worker sent the write; the emulator logs it when it arrives,
    # which on a loaded machine is a little later. Without the wait the read would come about
    # one client timeout (0.5 s) after the write, far below this.
    assert verify.time - posts[0].time >= BOUND_S - 0.5
    assert posts[1].time > verify.time
    assert platform_statuses(emulator, tuid) == ["new", "installed", "quarantine"]
