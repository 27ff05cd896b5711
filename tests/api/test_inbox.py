"""The sync-failure inbox: retry, edit-and-retry, apply anyway and discard, each audited."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.database import db
from app.models.audit import AuditEvent
from app.models.operations import Operation, OutboxStep, SyncAttempt
from app.sync.worker import SyncWorker, WorkerSettings
from tests.factories import op, platform_statuses

T = datetime.now(UTC) - timedelta(hours=2)


@pytest.fixture
def failed_install(login: Any, emulator: Any, run_worker: Any) -> dict[str, Any]:
    """An install into a group the platform does not have: status done, group step failed."""
    (tuid,) = emulator.state.add_devices(count=1)
    tech = login("technician")
    item = op("install", tuid, at=T, group_id="prfi00nosuchgroup")
    tech.post("/api/operations", json={"operations": [item]})
    run_worker()
    return {"tuid": tuid, "op_id": item["op_id"], "tech": tech}


def _audit(app: Any, op_id: str) -> list[AuditEvent]:
    """The operation's supervisor decisions (not install verification's findings)."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent)
                .join(Operation, Operation.id == AuditEvent.operation_id)
                .where(Operation.op_id == op_id, ~AuditEvent.action.startswith("verify."))
                .order_by(AuditEvent.id)
            )
        )


def test_technicians_cannot_use_the_inbox(login: Any, failed_install: dict[str, Any]) -> None:
    tech = failed_install["tech"]
    op_id = failed_install["op_id"]
    assert tech.get("/api/inbox").status_code == 403
    for action, body in (("retry", {}), ("edit", {"args": {}}), ("discard", {"reason": "x"})):
        response = tech.post(f"/api/inbox/{op_id}/{action}", json=body)
        assert response.status_code == 403, action


def test_inbox_lists_failed_and_conflicting_operations_with_the_platform_message(
    login: Any, emulator: Any, failed_install: dict[str, Any], run_worker: Any
) -> None:
    (other,) = emulator.state.add_devices(count=1)
    tech = failed_install["tech"]
    tech.post(
        "/api/operations",
        json={"operations": [op("set_status", other, at=T, minutes=10, status="retired")]},
    )
    run_worker()
    late = op("set_status", other, at=T, status="installed")
    tech.post("/api/operations", json={"operations": [late]})  # older than what was sent: conflict

    api = login("supervisor")
    page = api.get("/api/inbox").json
    assert page["totalElements"] == 2
    assert page["counts"] == {"failed": 1, "conflict": 1, "retrying": 0, "drift_repaired": 0}
    rows = {r["op_id"]: r for r in page["items"]}
    failed = rows[failed_install["op_id"]]
    assert failed["state"] == "failed"
    assert "prfi00nosuchgroup" in failed["error"]["message"]
    assert failed["platform"]["http_status"] == 404
    assert rows[late["op_id"]]["state"] == "conflict"
    assert "later action" in rows[late["op_id"]]["error"]["message"]
    only_conflicts = api.get("/api/inbox?state=conflict").json["items"]
    assert [r["op_id"] for r in only_conflicts] == [late["op_id"]]
    assert api.get("/api/inbox?state=synced").json["totalElements"] == 0


def test_retry_after_the_group_is_created_syncs_and_keeps_attempts(
    app: Any, login: Any, emulator: Any, failed_install: dict[str, Any], run_worker: Any
) -> None:
    op_id, tuid = failed_install["op_id"], failed_install["tuid"]
    emulator.state.create_group("prfi00nosuchgroup")
    api = login("supervisor")
    response = api.post(f"/api/inbox/{op_id}/retry", json={"reason": "group created"})
    assert response.status_code == 200, response.json
    operation = response.json["operation"]
    assert operation["state"] == "syncing"  # its first step already reached the platform
    assert [s["state"] for s in operation["steps"]] == ["done", "pending"]
    assert operation["steps"][1]["attempts"] == 1  # kept
    audit = response.json["audit"]
    assert audit["action"] == "inbox.retry" and audit["reason"] == "group created"
    assert audit["details"]["before"]["state"] == "failed"
    assert audit["details"]["after"]["state"] == "syncing"

    run_worker()

    stored = api.get(f"/api/operations?ids={op_id}").json["items"][0]
    assert stored["state"] == "synced" and stored["error"] is None
    assert stored["steps"][1]["attempts"] == 2
    assert emulator.state.group_of(tuid) == "prfi00nosuchgroup"
    assert platform_statuses(emulator, tuid) == ["new", "installed"]  # status not written twice
    with app.app_context():
        attempts = db.session.scalar(select(func.count(SyncAttempt.id)))
    assert attempts == 3  # status once, group twice: nothing was deleted
    assert [e.action for e in _audit(app, op_id)] == ["inbox.retry"]
    assert api.get("/api/inbox").json["totalElements"] == 0


def test_edit_fixes_the_group_replans_unfinished_steps_and_keeps_done_ones(
    app: Any, login: Any, emulator: Any, failed_install: dict[str, Any], run_worker: Any
) -> None:
    op_id, tuid = failed_install["op_id"], failed_install["tuid"]
    emulator.state.create_group("prfi00site")
    api = login("supervisor")
    response = api.post(
        f"/api/inbox/{op_id}/edit", json={"args": {"group_id": " PRFI00SITE "}, "reason": "typo"}
    )
    assert response.status_code == 200, response.json
    operation = response.json["operation"]
    assert operation["args"] == {"group_id": "prfi00site"}
    assert [(s["action"], s["value"], s["state"]) for s in operation["steps"]] == [
        ("set_status", "installed", "done"),
        ("set_group", "prfi00site", "pending"),
    ]
    details = response.json["audit"]["details"]
    assert details["before"]["args"] == {"group_id": "prfi00nosuchgroup"}
    assert details["after"]["args"] == {"group_id": "prfi00site"}
    assert details["changed_steps"] == [1]

    run_worker()

    assert api.get(f"/api/operations?ids={op_id}").json["items"][0]["state"] == "synced"
    assert emulator.state.group_of(tuid) == "prfi00site"
    assert platform_statuses(emulator, tuid) == ["new", "installed"]
    events = _audit(app, op_id)
    assert [(e.action, e.reason) for e in events] == [("inbox.edit", "typo")]
    assert events[0].user_id is not None


def test_edit_is_validated_and_cannot_rewrite_what_was_sent(
    login: Any, failed_install: dict[str, Any]
) -> None:
    api = login("supervisor")
    op_id = failed_install["op_id"]
    bad = api.post(f"/api/inbox/{op_id}/edit", json={"args": {"group_id": "no spaces!"}})
    assert bad.status_code == 422 and "not valid" in bad.json["error"]["message"]
    empty = api.post(f"/api/inbox/{op_id}/edit", json={"args": {}})
    assert empty.status_code == 422
    assert api.post(f"/api/inbox/{op_id}/edit", json={}).status_code == 422


def test_replace_cannot_change_a_device_already_written(
    login: Any, emulator: Any, run_worker: Any
) -> None:
    old, new, other = emulator.state.add_devices(count=3)
    tech = login("technician")
    # Nothing deleted on the platform can make copy_group fail, so fail it with a scripted 400.
    emulator.state.update_settings(fail_next=[{"status": 400, "method": "GET", "path": "/group"}])
    item = op("replace", old, at=T, new_tuid=new, old_status="retired")
    tech.post("/api/operations", json={"operations": [item]})
    run_worker()
    api = login("supervisor")
    stored = api.get(f"/api/operations?ids={item['op_id']}").json["items"][0]
    assert stored["state"] == "failed"
    response = api.post(
        f"/api/inbox/{item['op_id']}/edit",
        json={"args": {"new_tuid": other, "old_status": "retired"}},
    )
    assert response.status_code == 409
    assert "already reached the platform" in response.json["error"]["message"]


def test_conflict_apply_anyway_goes_after_the_newer_action(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    tech = login("technician")
    tech.post(
        "/api/operations",
        json={"operations": [op("set_status", tuid, at=T, minutes=10, status="retired")]},
    )
    run_worker()
    late = op("set_status", tuid, at=T, status="quarantine")
    tech.post("/api/operations", json={"operations": [late]})
    api = login("supervisor")

    response = api.post(f"/api/inbox/{late['op_id']}/retry", json={})
    assert response.status_code == 200
    assert response.json["operation"]["state"] == "accepted"
    assert response.json["audit"]["action"] == "inbox.apply_anyway"
    assert response.json["audit"]["details"]["reordered"] is True
    with app.app_context():
        step = db.session.scalar(
            select(OutboxStep).join(Operation).where(Operation.op_id == late["op_id"])
        )
        assert step is not None and step.order_at > T + timedelta(minutes=10)
    run_worker()

    assert platform_statuses(emulator, tuid) == ["new", "retired", "quarantine"]
    assert api.get(f"/api/operations?ids={late['op_id']}").json["items"][0]["state"] == "synced"


def test_discard_needs_a_reason_cancels_steps_and_deletes_nothing(
    app: Any, login: Any, failed_install: dict[str, Any], run_worker: Any
) -> None:
    op_id = failed_install["op_id"]
    api = login("supervisor")
    for body in ({}, {"reason": ""}):
        assert api.post(f"/api/inbox/{op_id}/discard", json=body).status_code == 422
    blank = api.post(f"/api/inbox/{op_id}/discard", json={"reason": "   "})
    assert blank.status_code == 422 and blank.json["error"]["details"]["field"] == "reason"

    response = api.post(f"/api/inbox/{op_id}/discard", json={"reason": "Device went back to stock"})
    assert response.status_code == 200
    operation = response.json["operation"]
    assert operation["state"] == "discarded"
    assert "Device went back to stock" in operation["error"]["message"]
    assert [s["state"] for s in operation["steps"]] == ["done", "cancelled"]
    run_worker()

    # The technician still sees it, with the reason.
    mine = failed_install["tech"].get(f"/api/operations?ids={op_id}").json["items"][0]
    assert mine["state"] == "discarded"
    assert api.get("/api/inbox").json["totalElements"] == 0
    assert api.get("/api/history?state=discarded").json["totalElements"] == 1
    events = _audit(app, op_id)
    assert [(e.action, e.reason) for e in events] == [
        ("inbox.discard", "Device went back to stock")
    ]
    assert events[0].details["before"]["state"] == "failed"
    assert events[0].details["after"]["state"] == "discarded"
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxStep.id))) == 2

    # Decided once: the next decision is refused.
    again = api.post(f"/api/inbox/{op_id}/retry", json={})
    assert again.status_code == 409 and again.json["error"]["details"]["state"] == "discarded"


def test_unknown_or_settled_operations_are_refused(
    login: Any, emulator: Any, run_worker: Any
) -> None:
    api = login("supervisor")
    missing = api.post("/api/inbox/00000000-0000-4000-8000-000000000000/retry", json={})
    assert missing.status_code == 404
    (tuid,) = emulator.state.add_devices(count=1)
    item = op("set_status", tuid, at=T, status="installed")
    login("technician").post("/api/operations", json={"operations": [item]})
    run_worker()
    synced = api.post(f"/api/inbox/{item['op_id']}/discard", json={"reason": "no"})
    assert synced.status_code == 409


@pytest.fixture
def retrying_status(app: Any, login: Any, emulator: Any) -> dict[str, Any]:
    """A status change the platform keeps answering 503 to, left waiting for its next try."""
    (tuid,) = emulator.state.add_devices(count=1)
    item = op("set_status", tuid, at=T, status="quarantine")
    login("technician").post("/api/operations", json={"operations": [item]})
    emulator.state.update_settings(fail_next=[503] * 50)
    worker = SyncWorker(app, WorkerSettings.from_config(app.config))
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with app.app_context():
                attempts = db.session.scalar(select(OutboxStep.attempts))
                db.session.remove()
            if attempts is not None and attempts >= 4:
                break
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(10)
    emulator.state.update_settings(fail_next=[])
    return {"tuid": tuid, "op_id": item["op_id"]}


def test_operations_that_keep_failing_to_sync_are_shown_apart(
    login: Any, retrying_status: dict[str, Any]
) -> None:
    api = login("supervisor")
    default = api.get("/api/inbox").json
    assert default["totalElements"] == 0  # nothing to decide: the worker is on it
    assert default["counts"] == {"failed": 0, "conflict": 0, "retrying": 1, "drift_repaired": 0}

    listed = api.get("/api/inbox?state=retrying")
    assert listed.status_code == 200, listed.json
    (item,) = listed.json["items"]
    assert item["op_id"] == retrying_status["op_id"] and item["state"] == "syncing"
    assert item["retrying"]["attempts"] >= 3
    assert datetime.fromisoformat(item["retrying"]["next_try_at"]) > T
    assert item["platform"]["http_status"] == 503
    assert item["error"]["code"] == "retrying"
    assert api.get("/api/inbox?state=failed,retrying").json["totalElements"] == 1
    assert api.get("/api/history?state=retrying").status_code == 422  # an inbox word only


def test_retry_now_cuts_the_wait_short_and_is_audited(
    app: Any, login: Any, emulator: Any, retrying_status: dict[str, Any], run_worker: Any
) -> None:
    op_id, tuid = retrying_status["op_id"], retrying_status["tuid"]
    api = login("supervisor")
    with app.app_context():
        db.session.execute(update(OutboxStep).values(available_at=T + timedelta(days=30)))
        db.session.commit()
    assert api.post(f"/api/inbox/{op_id}/discard", json={"reason": "x"}).status_code == 409

    response = api.post(f"/api/inbox/{op_id}/retry", json={"reason": "platform is back"})
    assert response.status_code == 200, response.json
    assert response.json["audit"]["action"] == "inbox.retry_now"
    with app.app_context():
        step = db.session.scalars(select(OutboxStep)).one()
        assert step.available_at <= datetime.now(UTC)
        assert step.attempts >= 3  # kept

    run_worker()

    stored = api.get(f"/api/operations?ids={op_id}").json["items"][0]
    assert stored["state"] == "synced"
    assert platform_statuses(emulator, tuid) == ["new", "quarantine"]
    assert api.get("/api/inbox").json["counts"]["retrying"] == 0
    assert [e.action for e in _audit(app, op_id)] == ["inbox.retry_now"]
