"""Queue health telemetry: phones report their queue with any request; supervisors read it."""

from __future__ import annotations

import json
from typing import Any

from app.database import db
from app.models.queue_reports import PhoneQueueReport
from app.services.queue_health import MAX_PHONES_PER_USER

HEADER = "X-Fieldhand-Queue"


def _report(**fields: Any) -> dict[str, str]:
    return {HEADER: json.dumps({"phone": "phone-a", "version": "1.4.0", **fields})}


def test_a_phone_reports_its_queue_and_the_console_shows_old_or_stuck_ones(login: Any) -> None:
    stuck, fine = login("technician", "stuck"), login("technician", "fine")
    stuck.get("/api/health", headers=_report(pending=40, oldest_s=2 * 86400, failed=1))
    fine.get("/api/health", headers=_report(pending=2, oldest_s=30, failed=0, phone="phone-b"))
    supervisor = login("supervisor")

    phones = supervisor.get("/api/queue-health").json["items"]
    assert [p["technician"]["username"] for p in phones] == ["stuck", "fine"]
    first = phones[0]
    assert first["pending"] == 40 and first["failed"] == 1 and first["app_version"] == "1.4.0"
    assert first["needs_attention"] == ["old", "failed"]
    assert 2 * 86400 - 5 <= first["oldest_unsynced_s"] <= 2 * 86400 + 60
    assert first["last_contact_at"]
    attention = supervisor.get("/api/queue-health", query_string={"attention": "true"}).json
    assert [p["technician"]["username"] for p in attention["items"]] == ["stuck"]
    assert stuck.get("/api/queue-health").status_code == 403


def test_reports_are_bounded_and_malformed_ones_ignored(app: Any, login: Any) -> None:
    phone = login("technician")
    for n in range(MAX_PHONES_PER_USER + 3):
        phone.get("/api/health", headers=_report(pending=n, phone=f"phone-{n}"))
    phone.get("/api/health", headers={HEADER: "not json"})
    phone.get("/api/health", headers={HEADER: json.dumps({"phone": "x" * 600})})
    phone.get("/api/health", headers=_report(pending=-5, failed=10**12, phone="clamped"))
    with app.app_context():
        rows = list(db.session.scalars(db.select(PhoneQueueReport)))
    assert len(rows) == MAX_PHONES_PER_USER
    clamped = next(r for r in rows if r.phone_id == "clamped")
    assert clamped.pending == 0 and clamped.failed == 1_000_000


def test_a_signed_out_request_stores_nothing_and_still_answers(app: Any) -> None:
    response = app.test_client().get("/api/health", headers=_report(pending=3))
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalars(db.select(PhoneQueueReport)).first() is None
