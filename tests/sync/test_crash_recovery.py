"""A worker process SIGKILLed mid-batch loses nothing and duplicates nothing after restart."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.database import db
from app.models.operations import Operation
from tests.factories import op
from tests.sync.workers import start_sync_run


def test_sigkilled_worker_is_replaced_without_loss_or_duplicate_history(
    app: Any, app_config: dict[str, Any], login: Any, emulator: Any, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=30)
    api = login("technician")
    at = datetime.now(UTC) - timedelta(minutes=10)
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=at, status="installed") for t in tuids]},
    )
    emulator.state.update_settings(latency_ms=250)
    worker = start_sync_run(app_config, emulator, SYNC_LEASE_S="2")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            installed = sum(1 for t in tuids if len(emulator.state.installation_history(t)) > 1)
            if installed >= 8:
                break
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        if worker.stderr:
            worker.stderr.close()
    installed_at_kill = sum(1 for t in tuids if len(emulator.state.installation_history(t)) > 1)
    assert 8 <= installed_at_kill < 30, "the kill must land mid-batch"

    emulator.state.update_settings(latency_ms=0)
    run_worker(lease_seconds=2)

    for tuid in tuids:
        statuses = [r["installation_status"] for r in emulator.state.installation_history(tuid)]
        assert statuses == ["new", "installed"], (tuid, statuses)
    with app.app_context():
        assert {o.state for o in db.session.scalars(select(Operation))} == {"synced"}
