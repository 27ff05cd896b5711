"""Undo: the inverse of a device's newest action, planned server-side, sent through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.factories import op, platform_statuses

T = datetime.now(UTC) - timedelta(hours=1)
GROUP = "prfi00undo"


def _seen(item: dict[str, Any], status: str | None, group: str | None) -> dict[str, Any]:
    item["seen"] = {"status": status, "group": group}
    return item


@pytest.fixture
def installed(login: Any, emulator: Any, run_worker: Any) -> dict[str, Any]:
    """A device a technician installed (seen before: uninstalled, no group), synced."""
    emulator.state.create_group(GROUP)
    (tuid,) = emulator.state.add_devices(count=1)
    tech = login("technician")
    install = _seen(op("install", tuid, at=T, group_id=GROUP), "uninstalled", "unassigned")
    assert tech.post("/api/operations", json={"operations": [install]}).status_code == 200
    run_worker()
    assert platform_statuses(emulator, tuid)[-1] == "installed"
    assert emulator.state.group_of(tuid) == GROUP
    return {"tuid": tuid, "tech": tech, "install": install}


def test_undo_of_a_synced_install_restores_status_and_group_on_the_platform(
    installed: dict[str, Any], emulator: Any, run_worker: Any
) -> None:
    tuid, tech = installed["tuid"], installed["tech"]
    undo = op("undo", tuid, at=T, minutes=1, undoes=installed["install"]["op_id"])
    response = tech.post("/api/operations", json={"operations": [undo]})
    assert response.status_code == 200
    (result,) = response.json["results"]
    assert result["result"] == "accepted"
    stored = result["operation"]
    assert stored["kind"] == "undo"
    assert stored["args"] == {
        "undoes": installed["install"]["op_id"],
        "status": "uninstalled",
        "group_id": "unassigned",
    }
    # Leave the group first, then the status (as a removal does).
    assert [(s["action"], s["value"]) for s in stored["steps"]] == [
        ("set_group", "unassigned"),
        ("set_status", "uninstalled"),
    ]
    run_worker()
    assert platform_statuses(emulator, tuid)[-2:] == ["installed", "uninstalled"]
    assert emulator.state.group_of(tuid) == "unassigned"
    (after,) = tech.get(f"/api/operations?ids={undo['op_id']}").json["items"]
    assert after["state"] == "synced"
    # A repeat of the same undo is a duplicate, not refused because it is now the newest.
    again = tech.post("/api/operations", json={"operations": [undo]})
    assert again.status_code == 200 and again.json["results"][0]["result"] == "duplicate"


def test_only_the_newest_action_can_be_undone_and_only_once(
    installed: dict[str, Any], run_worker: Any
) -> None:
    tuid, tech = installed["tuid"], installed["tech"]
    quarantine = _seen(
        op("set_status", tuid, at=T, minutes=1, status="quarantine"), "installed", GROUP
    )
    tech.post("/api/operations", json={"operations": [quarantine]})
    old = op("undo", tuid, at=T, minutes=2, undoes=installed["install"]["op_id"])
    refused = tech.post("/api/operations", json={"operations": [old]})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "undo_refused"
    assert "newest action" in refused.json["error"]["message"]

    undo = op("undo", tuid, at=T, minutes=3, undoes=quarantine["op_id"])
    accepted = tech.post("/api/operations", json={"operations": [undo]}).json["results"][0]
    # Only the status changed, so only the status is restored.
    assert accepted["operation"]["args"] == {"undoes": quarantine["op_id"], "status": "installed"}
    assert [s["action"] for s in accepted["operation"]["steps"]] == ["set_status"]
    twice = op("undo", tuid, at=T, minutes=4, undoes=quarantine["op_id"])
    assert tech.post("/api/operations", json={"operations": [twice]}).status_code == 409


def test_another_technician_cannot_undo_but_a_supervisor_can(
    installed: dict[str, Any], login: Any
) -> None:
    tuid, install_id = installed["tuid"], installed["install"]["op_id"]
    other = login("technician")
    refused = other.post(
        "/api/operations",
        json={"operations": [op("undo", tuid, at=T, minutes=1, undoes=install_id)]},
    )
    assert refused.status_code == 409
    assert "technician who did" in refused.json["error"]["message"]
    supervisor = login("supervisor")
    allowed = supervisor.post(
        "/api/operations",
        json={"operations": [op("undo", tuid, at=T, minutes=1, undoes=install_id)]},
    )
    assert allowed.json["results"][0]["result"] == "accepted"


def test_undo_queued_offline_with_its_action_is_planned_from_the_same_batch(
    login: Any, emulator: Any, run_worker: Any
) -> None:
    emulator.state.create_group(GROUP)
    (tuid,) = emulator.state.add_devices(count=1)
    tech = login("technician")
    wrong = _seen(op("set_status", tuid, at=T, status="retired"), "installed", None)
    undo = op("undo", tuid, at=T, minutes=1, undoes=wrong["op_id"])
    stray = op("undo", tuid, at=T, minutes=2, undoes=wrong["op_id"])
    response = tech.post("/api/operations", json={"operations": [wrong, undo, stray]})
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["result"] for r in results] == ["accepted", "accepted", "rejected"]
    assert results[1]["operation"]["args"]["status"] == "installed"
    assert results[2]["error"]["code"] == "undo_refused"
    run_worker()
    assert platform_statuses(emulator, tuid)[-2:] == ["retired", "installed"]


def test_undo_of_an_action_the_phone_acted_on_blind_waits_for_its_sync_then_restores(
    login: Any, emulator: Any, run_worker: Any, app: Any
) -> None:
    """Scanned offline in batch mode, the phone never saw the device: the worker reads what the
    install overwrites before writing it, and the undo restores that."""
    emulator.state.create_group(GROUP)
    emulator.state.create_group("prfi00before")
    (tuid,) = emulator.state.add_devices(count=1)
    emulator.state.assign_group(tuid, "prfi00before")
    emulator.state.set_installation_status(tuid, "quarantine", "earlier")
    status_before = "quarantine"
    tech = login("technician")
    blind = op("install", tuid, at=T, group_id=GROUP)  # seen: {} (nothing loaded)
    tech.post("/api/operations", json={"operations": [blind]})

    early = op("undo", tuid, at=T, minutes=1, undoes=blind["op_id"])
    refused = tech.post("/api/operations", json={"operations": [early]})
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "undo_before_sync"
    assert "once the action is synced" in refused.json["error"]["message"]

    run_worker()
    assert emulator.state.group_of(tuid) == GROUP
    undo = op("undo", tuid, at=T, minutes=2, undoes=blind["op_id"])
    (result,) = tech.post("/api/operations", json={"operations": [undo]}).json["results"]
    assert result["result"] == "accepted", result
    assert result["operation"]["args"] == {
        "undoes": blind["op_id"],
        "status": status_before,
        "group_id": "prfi00before",
    }
    run_worker()
    assert platform_statuses(emulator, tuid)[-1] == status_before
    assert emulator.state.group_of(tuid) == "prfi00before"


def test_the_worker_reads_before_writing_only_what_the_phone_did_not_see(
    login: Any, emulator: Any, run_worker: Any, app: Any
) -> None:
    from sqlalchemy import select

    from app.database import db
    from app.models.operations import OutboxStep

    emulator.state.create_group(GROUP)
    seen_tuid, blind_tuid = emulator.state.add_devices(count=2)
    emulator.state.set_installation_status(blind_tuid, "uninstalled", "earlier")
    tech = login("technician")
    seen = _seen(op("install", seen_tuid, at=T, group_id=GROUP), "uninstalled", None)
    blind = op("install", blind_tuid, at=T, group_id=GROUP)
    tech.post("/api/operations", json={"operations": [seen, blind]})
    run_worker()
    with app.app_context():
        noted = {(s.tuid, s.action): s.overwrote for s in db.session.scalars(select(OutboxStep))}
    # The status the phone saw is not read again; the group it did not see is.
    assert noted[(seen_tuid, "set_status")] is None
    assert noted[(seen_tuid, "set_group")] == "unassigned"
    assert noted[(blind_tuid, "set_status")] == "uninstalled"
    assert noted[(blind_tuid, "set_group")] == "unassigned"


def test_undo_is_refused_when_the_state_before_is_unknown_or_it_was_a_replacement(
    login: Any, emulator: Any, run_worker: Any, app: Any
) -> None:
    from sqlalchemy import update

    from app.database import db
    from app.models.operations import OutboxStep

    (tuid, new) = emulator.state.add_devices(count=2)
    tech = login("technician")
    blind = op("set_status", tuid, at=T, status="quarantine")  # the phone saw nothing
    tech.post("/api/operations", json={"operations": [blind]})
    run_worker()
    with app.app_context():  # synced before the worker noted overwritten values (or a read failed)
        db.session.execute(update(OutboxStep).values(overwrote=None))
        db.session.commit()
    refused = tech.post(
        "/api/operations",
        json={"operations": [op("undo", tuid, at=T, minutes=1, undoes=blind["op_id"])]},
    )
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "undo_state_unknown"
    assert "did not record" in refused.json["error"]["message"]

    swap = _seen(op("replace", tuid, at=T, minutes=2, new_tuid=new), "quarantine", None)
    tech.post("/api/operations", json={"operations": [swap]})
    refused = tech.post(
        "/api/operations",
        json={"operations": [op("undo", tuid, at=T, minutes=3, undoes=swap["op_id"])]},
    )
    assert refused.status_code == 409 and "replacement" in refused.json["error"]["message"]
    missing = tech.post("/api/operations", json={"operations": [op("undo", tuid, at=T, minutes=3)]})
    assert missing.status_code == 200
    assert missing.json["results"][0]["error"]["code"] == "invalid_operation"


def test_previous_action_fills_in_what_the_phone_did_not_see(
    login: Any, emulator: Any, run_worker: Any
) -> None:
    emulator.state.create_group(GROUP)
    (tuid,) = emulator.state.add_devices(count=1)
    tech = login("technician")
    install = _seen(op("install", tuid, at=T, group_id=GROUP), "uninstalled", "unassigned")
    blind = op("set_status", tuid, at=T, minutes=1, status="quarantine")
    tech.post("/api/operations", json={"operations": [install, blind]})
    undo = op("undo", tuid, at=T, minutes=2, undoes=blind["op_id"])
    result = tech.post("/api/operations", json={"operations": [undo]}).json["results"][0]
    assert result["operation"]["args"]["status"] == "installed"
    run_worker()
    assert platform_statuses(emulator, tuid)[-1] == "installed"
    assert emulator.state.group_of(tuid) == GROUP
