"""Operation ingest: idempotency, per-item results, ordering conflicts, follow-up queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import op

TUID = "TSPR04EZU31901021"
OTHER = "TSEN01ABC12345678"


def test_batch_is_accepted_and_repeat_returns_the_stored_rows(login: Any) -> None:
    api = login("technician")
    batch = [
        op("install", TUID, group_id="prfi00site"),
        op("set_status", OTHER, status="quarantine"),
    ]
    first = api.post("/api/operations", json={"operations": batch})
    assert first.status_code == 200
    assert [r["result"] for r in first.json["results"]] == ["accepted", "accepted"]
    install = first.json["results"][0]["operation"]
    assert install["state"] == "accepted"
    assert [(s["action"], s["value"]) for s in install["steps"]] == [
        ("set_status", "installed"),
        ("set_group", "prfi00site"),
    ]

    again = api.post("/api/operations", json={"operations": batch})
    assert [r["result"] for r in again.json["results"]] == ["duplicate", "duplicate"]
    assert again.json["results"][0]["operation"]["received_at"] == install["received_at"]

    listed = api.get(f"/api/operations?ids={batch[0]['op_id']},{batch[1]['op_id']}").json["items"]
    assert len(listed) == 2


def test_same_op_twice_in_one_batch_is_stored_once(login: Any, app: Any) -> None:
    api = login("technician")
    item = op("set_status", TUID, status="installed")
    response = api.post("/api/operations", json={"operations": [item, dict(item)]})
    assert [r["result"] for r in response.json["results"]] == ["accepted", "duplicate"]
    from sqlalchemy import func, select

    from app.database import db
    from app.models.operations import Operation

    with app.app_context():
        assert db.session.scalar(select(func.count(Operation.id))) == 1


def test_one_bad_item_does_not_reject_the_batch(login: Any) -> None:
    api = login("technician")
    good = op("set_status", TUID, status="installed")
    bad_status = op("set_status", OTHER, status="INSTALLED-ish")
    bad_tuid = op("set_status", "NOT-A-TUID", status="installed")
    self_replace = op("replace", TUID, new_tuid=TUID.lower())
    response = api.post(
        "/api/operations", json={"operations": [good, bad_status, bad_tuid, self_replace, "junk"]}
    )
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["result"] for r in results] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert "not one of" in results[1]["error"]["message"]
    assert "17 letters" in results[2]["error"]["message"]
    assert "cannot replace itself" in results[3]["error"]["message"]


def test_batch_limits_and_shapes(login: Any) -> None:
    api = login("technician")
    too_many = [op("set_status", TUID, status="installed") for _ in range(501)]
    response = api.post("/api/operations", json={"operations": too_many})
    assert response.status_code == 400 and "at most 500" in response.json["error"]["message"]
    assert api.post("/api/operations", json={"operations": []}).status_code == 422
    bad_json = api.post("/api/operations", data="[{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json["error"]["code"] == "bad_json"


def test_expired_session_gets_401_and_nothing_is_stored(login: Any, app: Any) -> None:
    api = login("technician")
    api.post("/api/auth/logout")
    response = api.post("/api/operations", json={"operations": [op("remove", TUID)]})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"


def test_mine_since_returns_only_my_operations(login: Any) -> None:
    anna, ben = login("technician"), login("technician")
    anna.post("/api/operations", json={"operations": [op("remove", TUID)]})
    ben.post("/api/operations", json={"operations": [op("remove", OTHER)]})
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    mine = anna.get("/api/operations", query_string={"mine": "true", "since": since}).json["items"]
    assert [o["tuid"] for o in mine] == [TUID]
    # A technician cannot read another technician's operations by id.
    other_id = ben.get("/api/operations?mine=true").json["items"][0]["op_id"]
    assert anna.get(f"/api/operations?ids={other_id}").json["items"] == []


def test_offline_delay_is_recorded(login: Any) -> None:
    api = login("technician")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    item = op("set_status", TUID, at=two_hours_ago, status="installed")
    stored = api.post("/api/operations", json={"operations": [item]}).json["results"][0]
    assert 7100 < stored["operation"]["offline_delay_s"] < 7300


def test_a_tuid_typed_with_a_dash_or_spaces_is_stored_as_the_tuid(login: Any) -> None:
    api = login("technician")
    dashed = op("set_status", "tspr04-EZU31901021", status="installed")
    spaced = op("set_status", "TSPR04 EZU319 01021", status="installed", minutes=1)
    results = api.post("/api/operations", json={"operations": [dashed, spaced]}).json["results"]
    assert [r["result"] for r in results] == ["accepted", "accepted"]
    assert {r["operation"]["tuid"] for r in results} == {TUID}
