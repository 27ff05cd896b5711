"""The console's overview: aggregates over devices, installs, verification, phones, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import op


def test_the_overview_counts_installs_per_day_devices_per_group_and_verification(
    login: Any, emulator: Any, run_worker: Any
) -> None:
    emulator.state.create_group("prfi00north")
    tuids = emulator.state.add_devices(count=3)
    tech = login("technician", "anna")
    today = datetime.now(UTC) - timedelta(minutes=30)
    yesterday = today - timedelta(days=1)
    tech.post(
        "/api/operations",
        json={
            "operations": [
                op("install", tuids[0], at=today, group_id="prfi00north"),
                op("install", tuids[1], at=yesterday, group_id="prfi00north"),
                op("set_status", tuids[2], at=today, status="quarantine"),
            ]
        },
    )
    run_worker()
    tech.get("/api/health", headers={"X-Fieldhand-Queue": '{"phone":"p","pending":1,"failed":2}'})

    body = login("supervisor").get("/api/overview").json

    assert body["window"]["days"] == 30
    (anna,) = body["installs"]["technicians"]
    assert anna["username"] == "anna" and anna["total"] == 2
    days = body["installs"]["days"]
    assert anna["counts"][days.index(today.date().isoformat())] == 1
    assert anna["counts"][days.index(yesterday.date().isoformat())] == 1
    north = next(g for g in body["devices"]["groups"] if g["group"] == "prfi00north")
    assert north["statuses"] == {"installed": 2}
    assert sum(body["verification"].values()) == 2
    assert body["phones_needing_attention"] == 1
    assert body["sync_failures"] == {"failed": 0, "conflict": 0}
    assert tech.get("/api/overview").status_code == 403
