"""The sync worker against the emulator over real HTTP: order, retries, verification, failures.

Every test runs on each platform's emulator (`all_platforms`): the worker knows nothing of the
platform beyond its adapter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.database import db
from app.models.operations import Operation, SyncAttempt
from tests.factories import op
from tests.platforms import EmulatedPlatform

pytestmark = pytest.mark.all_platforms

T = datetime.now(UTC) - timedelta(hours=1)


def _history(emulator: Any, tuid: str) -> list[str]:
    """Installation statuses oldest to newest, as the emulator stored them."""
    return [r["installation_status"] for r in emulator.state.installation_history(tuid)]


def _states(app: Any) -> dict[str, str]:
    with app.app_context():
        return {o.op_id: o.state for o in db.session.scalars(select(Operation))}


def test_install_reaches_the_platform_and_is_marked_synced(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=3)
    site = emulated.group("prfi00site")
    api = login("technician")
    batch = [op("install", t, at=T, group_id=site) for t in tuids]
    api.post("/api/operations", json={"operations": batch})

    run_worker()

    for tuid in tuids:
        assert _history(emulator, tuid) == ["new", "installed"]
        assert emulator.state.group_of(tuid) == site
    assert set(_states(app).values()) == {"synced"}
    followed = api.get("/api/operations", query_string={"ids": batch[0]["op_id"]}).json["items"][0]
    assert followed["state"] == "synced" and followed["synced_at"]
    assert all(s["state"] == "done" for s in followed["steps"])


def test_two_phones_out_of_order_arrival_is_applied_in_the_order_performed(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    site = emulated.group("prfi00site")
    phone_a, phone_b = login("technician"), login("technician")
    # B acted later but reaches the server first; neither has been sent yet.
    phone_b.post(
        "/api/operations",
        json={"operations": [op("set_status", tuid, at=T, minutes=10, status="quarantine")]},
    )
    phone_a.post("/api/operations", json={"operations": [op("install", tuid, at=T, group_id=site)]})

    run_worker()

    assert _history(emulator, tuid) == ["new", "installed", "quarantine"]
    assert set(_states(app).values()) == {"synced"}


def test_an_older_action_arriving_after_a_newer_one_was_sent_is_held_as_conflict(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    phone_a, phone_b = login("technician"), login("technician")
    phone_b.post(
        "/api/operations",
        json={"operations": [op("set_status", tuid, at=T, minutes=10, status="retired")]},
    )
    run_worker()
    late = op("set_status", tuid, at=T, status="installed")
    stored = phone_a.post("/api/operations", json={"operations": [late]}).json["results"][0]

    assert stored["operation"]["state"] == "conflict"
    assert "later action" in stored["operation"]["error"]["message"]
    run_worker()
    assert _history(emulator, tuid) == ["new", "retired"]


def test_replace_installs_new_device_into_old_group_then_retires_old(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    old, new = emulator.state.add_devices(count=2)
    hall = emulated.group("prfi00hall")
    api = login("technician")
    api.post("/api/operations", json={"operations": [op("install", old, at=T, group_id=hall)]})
    run_worker()
    api.post(
        "/api/operations",
        json={
            "operations": [op("replace", old, at=T, minutes=5, new_tuid=new, old_status="retired")]
        },
    )
    run_worker()

    assert _history(emulator, new) == ["new", "installed"]
    assert emulator.state.group_of(new) == hall
    assert _history(emulator, old) == ["new", "installed", "retired"]
    assert emulator.state.group_of(old) == "unassigned"


def test_platform_rejection_marks_failed_with_the_platform_message(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    emulated.require_groups()
    (tuid,) = emulator.state.add_devices(count=1)
    api = login("technician")
    missing = emulated.missing_group
    item = op("install", tuid, at=T, group_id=missing)
    api.post("/api/operations", json={"operations": [item]})

    run_worker()

    stored = api.get("/api/operations", query_string={"ids": item["op_id"]}).json["items"][0]
    assert stored["state"] == "failed"
    assert "not found" in stored["error"]["message"].lower()
    assert missing in stored["error"]["message"]
    # The status step succeeded before the group step failed; nothing was retried blindly.
    assert [s["state"] for s in stored["steps"]] == ["done", "failed"]
    assert _history(emulator, tuid) == ["new", "installed"]


def test_unknown_device_fails_with_a_clear_message(
    app: Any, login: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    api = login("technician")
    item = op("set_status", emulated.unknown_device, at=T, status="installed")
    api.post("/api/operations", json={"operations": [item]})
    run_worker()
    stored = api.get("/api/operations", query_string={"ids": item["op_id"]}).json["items"][0]
    assert stored["state"] == "failed"
    assert "Device not found" in stored["error"]["message"]


def test_unknown_outcome_is_verified_before_retrying_so_history_has_no_duplicate(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=4)
    api = login("technician")
    # The platform applies these writes, then answers 504: the worker cannot know they landed.
    write_fault = {"status": 504, "method": "POST", "path": "/installations"}
    emulator.state.update_settings(fail_next_after_apply=[write_fault] * 4)
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="installed") for t in tuids]},
    )

    run_worker()

    for tuid in tuids:
        assert _history(emulator, tuid) == ["new", "installed"]
    assert set(_states(app).values()) == {"synced"}
    with app.app_context():
        outcomes = [a.outcome for a in db.session.scalars(select(SyncAttempt))]
    assert outcomes.count("retry") == 4
    assert outcomes.count("already_applied") == 4


def test_transient_5xx_are_retried_until_synced(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=5)
    api = login("technician")
    emulator.state.update_settings(fail_next=[500, 502, 503, 500, 502, 504])
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="quarantine") for t in tuids]},
    )
    run_worker()
    for tuid in tuids:
        assert _history(emulator, tuid) == ["new", "quarantine"]
    assert set(_states(app).values()) == {"synced"}


def test_token_expiry_during_a_run_refreshes_once(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=6)
    api = login("technician")
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="installed") for t in tuids[:3]]},
    )
    run_worker(concurrency=1)
    tokens_before = emulator.state.stats()["token_requests"]
    emulator.state.advance(
        emulator.state.settings.token_ttl + 5
    )  # every issued token is now expired
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="installed") for t in tuids[3:]]},
    )
    run_worker(concurrency=1)

    assert set(_states(app).values()) == {"synced"}
    # ThingScale's API token never expires, so there is nothing to refresh.
    refreshed = emulator.state.stats()["token_requests"] - tokens_before
    assert refreshed == (1 if emulated.refreshes_tokens else 0)
    for tuid in tuids:
        assert _history(emulator, tuid) == ["new", "installed"]


def test_429_storm_is_ridden_out_without_loss_or_duplicates(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=12)
    api = login("technician")
    emulator.state.update_settings(rate_limit=8.0)
    api.post(
        "/api/operations",
        json={"operations": [op("set_status", t, at=T, status="uninstalled") for t in tuids]},
    )
    run_worker(concurrency=8)
    with app.app_context():
        outcomes = [a.outcome for a in db.session.scalars(select(SyncAttempt))]
    assert set(_states(app).values()) == {"synced"}
    for tuid in tuids:
        assert _history(emulator, tuid) == ["new", "uninstalled"]
    assert outcomes.count("applied") + outcomes.count("already_applied") == 12


def test_replace_sent_with_the_old_devices_install_waits_for_it(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    old, new = emulator.state.add_devices(count=2)
    lobby = emulated.group("prfi00lobby")
    api = login("technician")
    # Both in one batch: the replacement must not copy the old device's group before its
    # install (which sets that group) has reached the platform.
    api.post(
        "/api/operations",
        json={
            "operations": [
                op("install", old, at=T, group_id=lobby),
                op("replace", old, at=T, minutes=1, new_tuid=new, old_status="uninstalled"),
            ]
        },
    )
    run_worker(concurrency=8)

    assert emulator.state.group_of(new) == lobby
    assert _history(emulator, old) == ["new", "installed", "uninstalled"]
    assert _history(emulator, new) == ["new", "installed"]
