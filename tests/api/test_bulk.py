"""Bulk jobs: dry-run verdicts against the emulator, counted confirm, progress, results, cancel."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.database import db
from app.models.audit import AuditEvent
from app.models.operations import Operation, OutboxStep
from app.platform.provider import EXTENSION_KEY as PLATFORM_KEY
from app.platform.provider import platform_for
from app.services.bulk import PACING_KEY, Pacing, join_dry_run
from app.services.bulk.reading import RATE_LIMIT_WAIT_CAP_S
from app.sync.outbox import claim_steps
from tests.factories import op, platform_statuses
from tests.platforms import EmulatedPlatform
from tests.waiting import wait_until

T = datetime.now(UTC) - timedelta(hours=1)
UNKNOWN = "TSPR04ZZZZZZZZZZZ"


@pytest.fixture
def fleet(emulator: Any, emulated: EmulatedPlatform, login: Any, run_worker: Any) -> dict[str, Any]:
    """Four devices: two installed in prfi00site, one already retired, one new."""
    tuids = emulator.state.add_devices(count=4)
    site = emulated.group("prfi00site")
    tech = login("technician")
    tech.post(
        "/api/operations",
        json={
            "operations": [
                op("install", tuids[0], at=T, group_id=site),
                op("install", tuids[1], at=T, group_id=site),
                op("set_status", tuids[2], at=T, status="retired"),
            ]
        },
    )
    run_worker()
    return {"tuids": tuids, "tech": tech, "site": site, "unknown": emulated.unknown_device}


def _checked(api: Any, response: Any) -> Any:
    """Wait for a dry run answered 202 to read its devices; return {job, items (first page)}."""
    assert response.status_code == 202, response.json
    job = response.json["job"]
    assert job["state"] == "checking" and response.headers["Location"] == f"/api/bulk/{job['id']}"
    assert join_dry_run(api.client.application, job["id"], timeout=30), "the dry run went on"
    job = api.get(f"/api/bulk/{job['id']}").json
    assert job["state"] != "checking", job
    items = api.get(f"/api/bulk/{job['id']}/items?size=100").json
    return {"job": job, "items": items}


def _preview(api: Any, **body: Any) -> Any:
    return _checked(api, api.post("/api/bulk/preview", json=body))


def test_technicians_cannot_run_bulk_jobs(login: Any) -> None:
    tech = login("technician")
    assert tech.get("/api/bulk").status_code == 403
    assert (
        tech.post("/api/bulk/preview", json={"action": "retire", "tuids": [UNKNOWN]}).status_code
        == 403
    )
    assert tech.get("/api/bulk/1").status_code == 403
    assert tech.get("/api/bulk/1/items").status_code == 403
    assert tech.post("/api/bulk/1/confirm", json={"expected_count": 1}).status_code == 403
    assert tech.post("/api/bulk/1/cancel").status_code == 403
    assert tech.get("/api/bulk/1/results.csv").status_code == 403


@pytest.mark.all_platforms
def test_preview_reads_the_platform_and_says_what_will_change(
    app: Any, login: Any, fleet: dict[str, Any], emulated: EmulatedPlatform
) -> None:
    installed, second, retired, fresh = fleet["tuids"]
    api = login("supervisor")
    body = _preview(
        api,
        action="retire",
        tuids=[
            installed,
            f"  {retired.lower()} ",
            fleet["unknown"],
            installed,
            "not a label",
            "",
            fresh,
        ],
    )
    job = body["job"]
    assert job["state"] == "preview" and job["progress"] is None
    assert job["action"] == "retire" and job["target"] == "retired" and job["source"] == "list"
    assert job["summary"] == {
        "lines": 6,
        "devices": 4,
        "read": 4,
        "change": 2,
        "already": 1,
        "unknown": 1,
        "duplicate": 1,
        "invalid": 1,
        "error": 0,
        "will_change": 2,
    }
    items = body["items"]["items"]
    assert [(i["line_no"], i["verdict"]) for i in items] == [
        (1, "change"),
        (2, "already"),
        (3, "unknown"),
        (4, "duplicate"),
        (5, "invalid"),
        (7, "change"),
    ]
    assert items[0]["current_status"] == "installed" and items[0]["current_group"] == fleet["site"]
    assert items[1]["tuid"] == retired and items[1]["current_status"] == "retired"
    assert items[4]["message"]  # why the line was not understood
    assert items[5]["current_status"] == emulated.fresh_status
    assert items[5]["current_group"] == "unassigned"
    # A dry run changes nothing anywhere.
    with app.app_context():
        assert (
            db.session.scalar(select(Operation.id).where(Operation.bulk_job_id.is_not(None)))
            is None
        )


@pytest.mark.all_platforms
def test_preview_of_a_whole_group_and_a_move(
    login: Any, emulated: EmulatedPlatform, fleet: dict[str, Any]
) -> None:
    emulated.require_groups()
    installed, second, _, _ = fleet["tuids"]
    site = fleet["site"]
    api = login("supervisor")
    body = _preview(api, action="quarantine", group_id=site.upper())
    assert body["job"]["source"] == "group" and body["job"]["source_detail"] == site
    assert {i["tuid"] for i in body["items"]["items"]} == {installed, second}
    assert body["job"]["summary"]["change"] == 2

    other = emulated.group("prfi00other")
    move = _preview(api, action="move", target_group=other, tuids=[installed, fleet["tuids"][3]])
    assert move["job"]["target"] == other and move["job"]["summary"]["change"] == 2
    already = _preview(api, action="move", target_group=site, tuids=[installed])
    assert already["job"]["summary"]["already"] == 1

    missing = api.post(
        "/api/bulk/preview",
        json={"action": "move", "target_group": emulated.missing_group, "tuids": [installed]},
    )
    assert missing.status_code == 422 and "does not exist" in missing.json["error"]["message"]
    no_target = api.post("/api/bulk/preview", json={"action": "move", "tuids": [installed]})
    assert no_target.status_code == 422
    no_group = api.post(
        "/api/bulk/preview", json={"action": "retire", "group_id": emulated.missing_group}
    )
    assert no_group.status_code == 404
    two_sources = api.post(
        "/api/bulk/preview", json={"action": "retire", "tuids": [installed], "text": installed}
    )
    assert two_sources.status_code == 422
    empty = api.post("/api/bulk/preview", json={"action": "retire", "text": "\n \n"})
    assert empty.status_code == 422


def test_preview_from_pasted_text_and_label_texts(login: Any, fleet: dict[str, Any]) -> None:
    installed, second, _, fresh = fleet["tuids"]
    legacy = f"{second[6:]},{second[:6]}"  # a printed label: PSN,IMC
    api = login("supervisor")
    body = _preview(
        api, action="uninstall", text=f"{installed}\r\n\n{legacy}\n{fresh}, {UNKNOWN}\n"
    )
    assert [(i["line_no"], i["tuid"], i["verdict"]) for i in body["items"]["items"]] == [
        (1, installed, "change"),
        (3, second, "change"),
        (4, fresh, "change"),
        (4, UNKNOWN, "unknown"),
    ]


def test_preview_from_an_uploaded_csv(login: Any, fleet: dict[str, Any]) -> None:
    installed, second, retired, _ = fleet["tuids"]
    legacy = f"{second[6:]},{second[:6]}"
    content = (
        "\ufeffName;TUID;Note\r\n"
        f"Hall A;{installed};first\r\n"
        "\r\n"
        f';"{retired.lower()}";"quoted; with ""semicolon"""\r\n'
        "Hall B;;missing\r\n"
        f"Hall C;{legacy};label text\r\n"
    ).encode()
    api = login("supervisor")
    response = api.post(
        "/api/bulk/preview/upload",
        data={"action": "retire", "file": (io.BytesIO(content), "devices.csv")},
        content_type="multipart/form-data",
    )
    checked = _checked(api, response)
    job = checked["job"]
    assert job["source"] == "csv" and job["source_detail"] == "devices.csv"
    items = checked["items"]["items"]
    assert [(i["line_no"], i["tuid"], i["verdict"]) for i in items] == [
        (2, installed, "change"),
        (4, retired, "already"),
        (5, None, "invalid"),
        (6, second, "change"),
    ]

    # A plain list with no header, and a legacy label split by the CSV reader into two cells.
    plain = f"{installed}\n{legacy}\n".encode()
    response = api.post(
        "/api/bulk/preview/upload",
        data={"action": "retire", "file": (io.BytesIO(plain), "list.txt")},
        content_type="multipart/form-data",
    )
    assert [(i["tuid"], i["verdict"]) for i in _checked(api, response)["items"]["items"]] == [
        (installed, "change"),
        (second, "change"),
    ]
    empty = api.post(
        "/api/bulk/preview/upload",
        data={"action": "retire", "file": (io.BytesIO(b""), "empty.csv")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422


def test_items_are_paged_and_filtered_by_verdict(login: Any, emulator: Any) -> None:
    tuids = emulator.state.add_devices(count=7)
    api = login("supervisor")
    job = _preview(api, action="quarantine", tuids=[*tuids, UNKNOWN])["job"]
    page = api.get(f"/api/bulk/{job['id']}/items?size=3&page=2").json
    assert page["totalElements"] == 8 and page["totalPages"] == 3 and page["last"] is True
    assert [i["line_no"] for i in page["items"]] == [7, 8]
    unknown = api.get(f"/api/bulk/{job['id']}/items?verdict=unknown").json
    assert [i["tuid"] for i in unknown["items"]] == [UNKNOWN]
    assert api.get("/api/bulk/999999/items").status_code == 404


def test_confirm_must_name_the_count(app: Any, login: Any, fleet: dict[str, Any]) -> None:
    api = login("supervisor")
    job = _preview(api, action="retire", tuids=fleet["tuids"])["job"]
    assert job["summary"]["will_change"] == 3
    wrong = api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 4})
    assert wrong.status_code == 409
    assert wrong.json["error"]["details"] == {"expected_count": 4, "will_change": 3}
    assert api.get(f"/api/bulk/{job['id']}").json["state"] == "preview"
    assert api.post(f"/api/bulk/{job['id']}/confirm", json={}).status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(select(Operation.id).where(Operation.bulk_job_id == job["id"]))
            is None
        )


@pytest.mark.all_platforms
def test_confirm_feeds_the_outbox_and_progress_reaches_done(
    app: Any,
    login: Any,
    emulator: Any,
    emulated: EmulatedPlatform,
    fleet: dict[str, Any],
    run_worker: Any,
) -> None:
    installed, second, retired, fresh = fleet["tuids"]
    unknown = fleet["unknown"]
    api = login("supervisor", username="sue")
    job = _preview(
        api, action="retire", tuids=[installed, second, retired, fresh, unknown, installed]
    )["job"]
    confirmed = api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 3})
    assert confirmed.status_code == 200, confirmed.json
    running = confirmed.json
    assert running["state"] == "running" and running["confirmed_at"]
    assert running["progress"]["total"] == 3 and running["progress"]["by_state"]["accepted"] == 3
    assert running["progress"]["done"] == 0 and running["progress"]["percent"] == 0
    assert api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 3}).status_code == 409

    with app.app_context():
        ops = list(db.session.scalars(select(Operation).where(Operation.bulk_job_id == job["id"])))
        assert {o.tuid for o in ops} == {installed, second, fresh}
        assert {(o.kind, o.user.username, o.args["status"]) for o in ops} == {
            ("set_status", "sue", "retired")
        }
        assert {o.seen_status for o in ops} == {"installed", emulated.fresh_status}
        confirm_audit = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "bulk.confirm")
        )
        assert confirm_audit is not None and confirm_audit.details["devices"] == 3
    # The operations are in the history like any other, filterable by job.
    assert api.get(f"/api/history?bulk_job_id={job['id']}").json["totalElements"] == 3

    run_worker()

    done = api.get(f"/api/bulk/{job['id']}").json
    assert done["state"] == "done" and done["finished_at"]
    assert done["progress"]["by_state"]["synced"] == 3
    assert done["progress"]["percent"] == 100.0 and done["progress"]["eta_s"] is None
    for tuid in (installed, second, fresh):
        assert platform_statuses(emulator, tuid)[-1] == "retired"
    assert platform_statuses(emulator, retired) == ["new", "retired"]  # already retired: left alone

    listed = api.get("/api/bulk").json
    assert listed["totalElements"] == 1 and listed["items"][0]["state"] == "done"
    assert listed["items"][0]["created_by"]["username"] == "sue"

    results = api.get(f"/api/bulk/{job['id']}/results.csv")
    assert results.status_code == 200 and results.mimetype == "text/csv"
    assert f"fieldhand-bulk-{job['id']}-results-" in results.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(results.get_data(as_text=True).removeprefix("\ufeff"))))
    assert [(r["line"], r["tuid"], r["preview"], r["result"]) for r in rows] == [
        ("1", installed, "change", "done"),
        ("2", second, "change", "done"),
        ("3", retired, "already", "unchanged"),
        ("4", fresh, "change", "done"),
        ("5", unknown, "unknown", "not_done"),
        ("6", installed, "duplicate", "skipped"),
    ]
    assert rows[0]["operation_state"] == "synced" and rows[0]["op_id"] and rows[0]["synced_at"]


@pytest.mark.all_platforms
def test_a_device_with_actions_still_waiting_is_changed_even_if_it_looks_done(
    login: Any, emulator: Any, fleet: dict[str, Any]
) -> None:
    _, _, retired, _ = fleet["tuids"]
    # The technician reinstalls it; the platform still says retired until that syncs.
    fleet["tech"].post(
        "/api/operations", json={"operations": [op("set_status", retired, status="installed")]}
    )
    item = _preview(login("supervisor"), action="retire", tuids=[retired])["items"]["items"][0]
    assert item["verdict"] == "change" and item["current_status"] == "retired"
    assert "wait to sync" in item["message"]


@pytest.mark.all_platforms
def test_unreachable_device_is_an_error_not_a_change(login: Any, emulator: Any) -> None:
    ok, flaky = emulator.state.add_devices(count=2)
    # The client retries reads twice, so three failures in a row make the device unreadable.
    emulator.state.update_settings(
        fail_next=[{"status": 503, "path": f"/things/{flaky}/installations"}] * 3
    )
    body = _preview(login("supervisor"), action="retire", tuids=[ok, flaky])
    assert [i["verdict"] for i in body["items"]["items"]] == ["change", "error"]
    assert "unreachable" in body["items"]["items"][1]["message"]


@pytest.mark.all_platforms
def test_cancel_stops_what_was_not_sent_and_keeps_what_was(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    tuids = emulator.state.add_devices(count=6)
    api = login("supervisor", username="sue")
    job = _preview(api, action="quarantine", tuids=tuids)["job"]
    api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 6})
    with app.app_context():
        # A worker has taken two of them and is talking to the platform right now.
        leased = claim_steps(db.session(), "busy-worker", 2, datetime.now(UTC), 60.0)
        db.session.remove()
    assert len(leased) == 2

    response = api.post(f"/api/bulk/{job['id']}/cancel")
    assert response.status_code == 200
    cancelled = response.json
    assert cancelled["state"] == "cancelled" and cancelled["cancelled_at"]
    assert cancelled["progress"]["by_state"]["discarded"] == 4
    assert cancelled["progress"]["by_state"]["syncing"] == 2
    assert cancelled["summary"]["cancelled_operations"] == 4

    with app.app_context():
        ops = list(db.session.scalars(select(Operation).where(Operation.bulk_job_id == job["id"])))
        discarded = [o for o in ops if o.state == "discarded"]
        assert len(discarded) == 4 and len(ops) == 6
        assert {o.error_message for o in discarded} == {"bulk job cancelled by Sue"}
        assert {s.state for o in discarded for s in o.steps} == {"cancelled"}
        assert {s.state for o in ops if o.state != "discarded" for s in o.steps} == {"leased"}
        assert db.session.scalar(
            select(AuditEvent.action).where(AuditEvent.action == "bulk.cancel")
        )
        db.session.execute(
            OutboxStep.__table__.update()
            .where(OutboxStep.state == "leased")
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()

    run_worker()  # the two in flight finish (their lease ran out: re-read, then written once)

    changed = [t for t in tuids if platform_statuses(emulator, t)[-1] == "quarantine"]
    assert len(changed) == 2
    assert {
        o["state"]
        for o in api.get(f"/api/history?bulk_job_id={job['id']}&state=synced").json["items"]
    } == {"synced"}
    assert api.get(f"/api/bulk/{job['id']}").json["state"] == "cancelled"
    assert api.post(f"/api/bulk/{job['id']}/cancel").status_code == 409
    assert api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 6}).status_code == 409


def test_cancelling_a_preview_changes_nothing(login: Any, emulator: Any) -> None:
    tuids = emulator.state.add_devices(count=2)
    api = login("supervisor")
    job = _preview(api, action="retire", tuids=tuids)["job"]
    assert api.post(f"/api/bulk/{job['id']}/cancel").json["state"] == "cancelled"
    assert api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 2}).status_code == 409
    assert api.get("/api/bulk?state=cancelled").json["totalElements"] == 1


def test_nothing_to_change_is_done_at_once(login: Any, fleet: dict[str, Any]) -> None:
    api = login("supervisor")
    job = _preview(api, action="retire", tuids=[fleet["tuids"][2]])["job"]
    done = api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 0}).json
    assert done["state"] == "done" and done["progress"]["total"] == 0


@pytest.mark.all_platforms
def test_an_interrupted_confirm_can_be_confirmed_again_without_duplicates(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    from app.models.devices import Device
    from app.models.users import User
    from app.services import bulk as bulk_service

    tuids = emulator.state.add_devices(count=5)
    api = login("supervisor", username="sue")
    job = _preview(api, action="retire", tuids=tuids)["job"]

    def crash(_: int) -> None:
        raise RuntimeError("web process killed")

    with app.app_context():
        sue = db.session.scalar(select(User).where(User.username == "sue"))
        assert sue is not None
        with pytest.raises(RuntimeError):
            bulk_service.confirm(job["id"], 5, sue, chunk=2, on_chunk=crash)
        db.session.remove()
    half = api.get(f"/api/bulk/{job['id']}").json
    assert half["state"] == "confirming" and half["progress"]["total"] == 2

    again = api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 5})
    assert again.status_code == 200 and again.json["state"] == "running"
    assert again.json["progress"]["total"] == 5
    with app.app_context():
        ops = list(db.session.scalars(select(Operation).where(Operation.bulk_job_id == job["id"])))
        assert sorted(o.tuid for o in ops) == sorted(tuids)
        # The device cache shows the intent until the platform confirms it, as for any action.
        cached = {d.tuid: (d.status, d.source) for d in db.session.scalars(select(Device))}
        assert {cached[t] for t in tuids} == {("retired", "local")}
    run_worker()
    assert api.get(f"/api/bulk/{job['id']}").json["state"] == "done"
    for tuid in tuids:
        assert platform_statuses(emulator, tuid) == ["new", "retired"]


def test_preview_when_the_platform_answers_nothing_is_503_and_stores_no_job(
    login: Any, emulator: Any
) -> None:
    tuids = emulator.state.add_devices(count=3)
    api = login("supervisor")
    emulator.state.update_settings(fail_rate=1.0)
    response = api.post("/api/bulk/preview", json={"action": "retire", "tuids": tuids})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    emulator.state.update_settings(fail_rate=0.0)
    assert api.get("/api/bulk").json["totalElements"] == 0


@pytest.mark.all_platforms
def test_rate_limited_reads_are_retried_after_a_backoff(
    app: Any, login: Any, emulator: Any
) -> None:
    waits: list[float] = []
    app.extensions[PACING_KEY] = Pacing(sleep=waits.append)
    tuids = emulator.state.add_devices(count=2)
    emulator.state.update_settings(fail_next=[{"status": 429, "path": "/installations"}] * 2)
    body = _preview(login("supervisor"), action="retire", tuids=tuids)
    assert [i["verdict"] for i in body["items"]["items"]] == ["change", "change"]
    assert len(waits) == 2 and all(0 < wait <= RATE_LIMIT_WAIT_CAP_S for wait in waits)


@pytest.mark.all_platforms
def test_a_bulk_action_older_than_what_was_sent_is_held_as_a_conflict(
    app: Any, login: Any, emulator: Any, run_worker: Any
) -> None:
    ahead, plain = emulator.state.add_devices(count=2)
    # A phone whose clock runs 3 minutes fast (within tolerance) quarantined `ahead`: that action
    # is ordered after anything the job does now, so the job's retire must not undo it.
    login("technician").post(
        "/api/operations",
        json={
            "operations": [
                op(
                    "set_status",
                    ahead,
                    at=datetime.now(UTC) + timedelta(minutes=3),
                    status="quarantine",
                )
            ]
        },
    )
    run_worker()
    api = login("supervisor", username="sue")
    job = _preview(api, action="retire", tuids=[ahead, plain])["job"]
    confirmed = api.post(f"/api/bulk/{job['id']}/confirm", json={"expected_count": 2})
    assert confirmed.status_code == 200, confirmed.json

    with app.app_context():
        rows = db.session.execute(
            select(Operation.tuid, Operation.state, OutboxStep.state, OutboxStep.step_no)
            .join(OutboxStep, OutboxStep.operation_id == Operation.id)
            .where(Operation.bulk_job_id == job["id"])
        ).all()
    assert sorted(rows) == sorted(
        [(ahead, "conflict", "held", 0), (plain, "accepted", "pending", 0)]
    )
    run_worker()
    assert platform_statuses(emulator, ahead) == ["new", "quarantine"]
    assert platform_statuses(emulator, plain) == ["new", "retired"]
    inbox = api.get("/api/inbox").json
    assert inbox["counts"]["conflict"] == 1
    (held,) = inbox["items"]
    assert held["tuid"] == ahead
    assert "This bulk action was held" in held["error"]["message"]


class _GatedReads:
    """The app's platform, but each status read waits for a pass the test hands out."""

    def __init__(self, platform: Any) -> None:
        self._platform = platform
        self._passes = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.started = 0
        self.finished = 0

    def let_through(self, reads: int) -> None:
        for _ in range(reads):
            self._passes.release()

    def get_installation_status(self, tuid: str) -> str:
        with self._lock:
            self.started += 1
        assert self._passes.acquire(timeout=60), "no pass for this read"
        try:
            return str(self._platform.get_installation_status(tuid))
        finally:
            with self._lock:
                self.finished += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)


class _ReportWhenTold(Pacing):
    """Reports a dry run's progress when the test says so, never on a timer."""

    def __init__(self) -> None:
        super().__init__()
        self._told = threading.Semaphore(0)

    def tell(self) -> None:
        self._told.release()

    def next_report(self, finished: threading.Event) -> bool:
        while not finished.is_set():
            if self._told.acquire(timeout=0.05):
                return False
        return True


@pytest.mark.all_platforms
def test_a_dry_run_reports_progress_and_cancelling_it_stops_the_reads(
    app: Any, login: Any, emulator: Any
) -> None:
    concurrency = 2
    app.config["BULK_PREVIEW_CONCURRENCY"] = concurrency
    reports = _ReportWhenTold()
    app.extensions[PACING_KEY] = reports
    gated = _GatedReads(platform_for(app))
    app.extensions[PLATFORM_KEY] = gated
    tuids = emulator.state.add_devices(count=60)
    api = login("supervisor")
    started = api.post("/api/bulk/preview", json={"action": "retire", "tuids": tuids})
    assert started.status_code == 202, started.json
    job_id = started.json["job"]["id"]
    assert started.json["job"]["summary"] == {
        "lines": 60,
        "devices": 60,
        "read": 0,
        "checked_at": started.json["job"]["summary"]["checked_at"],
    }

    def job() -> dict[str, Any]:
        body: dict[str, Any] = api.get(f"/api/bulk/{job_id}").json
        return body

    gated.let_through(10)
    wait_until(lambda: gated.finished == 10, timeout=30, what="ten reads")
    assert job()["summary"]["read"] == 0  # nothing reported yet
    reports.tell()
    wait_until(lambda: job()["summary"]["read"] == 10, timeout=30, what="the progress report")
    assert job()["state"] == "checking"
    refused = api.post(f"/api/bulk/{job_id}/confirm", json={"expected_count": 60})
    assert refused.status_code == 409 and "still reading" in refused.json["error"]["message"]

    cancelled = api.post(f"/api/bulk/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    reports.tell()  # the next report sees the cancel
    assert join_dry_run(app, job_id, timeout=30), "the dry run went on after the cancel"
    gated.let_through(60)
    wait_until(lambda: gated.finished == gated.started, timeout=30, what="the reads under way")
    # Only the calls already under way when the cancel was seen reached the platform.
    assert gated.started <= 10 + concurrency
    after = job()
    assert after["state"] == "cancelled" and after["summary"]["read"] == 10
    assert api.get(f"/api/bulk/{job_id}/items").json["totalElements"] == 0


@pytest.mark.all_platforms
def test_a_dry_run_the_platform_cannot_answer_fails_with_its_reason(
    login: Any, emulator: Any
) -> None:
    tuids = emulator.state.add_devices(count=3)
    emulator.state.update_settings(fail_next=[{"status": 500, "path": "/installations"}] * 100)
    body = _preview(login("supervisor"), action="retire", tuids=tuids)
    job = body["job"]
    assert job["state"] == "check_failed" and job["finished_at"]
    assert "did not answer for any device" in job["summary"]["failure"]
    assert body["items"]["totalElements"] == 0


def test_a_dry_run_whose_process_died_is_marked_failed_and_cannot_be_confirmed(
    app: Any, login: Any, emulator: Any
) -> None:
    from app.models.bulk import BulkJob

    (tuid,) = emulator.state.add_devices(count=1)
    api = login("supervisor")
    job_id = _preview(api, action="retire", tuids=[tuid])["job"]["id"]
    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    with app.app_context():
        job = db.session.get(BulkJob, job_id)
        assert job is not None
        job.state = "checking"  # as a web worker killed mid-read leaves it
        job.summary = {**job.summary, "checked_at": long_ago}
        db.session.commit()

    listed = api.get("/api/bulk").json["items"][0]
    assert listed["state"] == "check_failed"
    assert "interrupted" in listed["summary"]["failure"]
    confirm = api.post(f"/api/bulk/{job_id}/confirm", json={"expected_count": 1})
    assert confirm.status_code == 409
