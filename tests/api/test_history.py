"""Install history: filters, paging, sorting, the CSV export and one device's timeline."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from app.services.exports import HISTORY_HEADER
from tests.conftest import PASSWORD, ApiClient
from tests.factories import op

# 08:00 UTC three days ago: every action below falls on a known day, all in the past.
T0 = datetime.combine((datetime.now(UTC) - timedelta(days=3)).date(), time(8), UTC)
SPECIAL_NAME = 'Jääskeläinen, "Jussi"\nvuoro 2'


def _client(app: Any, username: str, role: str, display_name: str) -> ApiClient:
    from app.services.accounts import create_user

    with app.app_context():
        create_user(username, PASSWORD, role, display_name=display_name)
    api = ApiClient(app.test_client())
    assert api.login(username, PASSWORD).status_code == 200
    return api


@pytest.fixture
def history(app: Any, emulator: Any, run_worker: Any) -> dict[str, Any]:
    """Two technicians' work over three days: installs, a quarantine, a replace, a failure."""
    a1, a2, a3, b1, new = emulator.state.add_devices(count=5)
    emulator.state.create_group("prfi00north")
    emulator.state.create_group("prfi00south")
    anna = _client(app, "anna", "technician", "Anna Aho")
    jussi = _client(app, "jussi", "technician", SPECIAL_NAME)
    ops = {
        "a1": op("install", a1, at=T0, group_id="prfi00north"),
        "a2": op("install", a2, at=T0, minutes=60, group_id="prfi00north"),
        "a3": op("install", a3, at=T0 + timedelta(days=1), group_id="prfi00south"),
        "b1": op("install", b1, at=T0 + timedelta(days=1), minutes=5, group_id="prfi00missing"),
        "q": op("set_status", a2, at=T0 + timedelta(days=2), status="quarantine"),
        "r": op(
            "replace", a1, at=T0 + timedelta(days=2), minutes=5, new_tuid=new, old_status="retired"
        ),
    }
    ops["q"]["seen"] = {"status": "installed", "group": "prfi00north"}
    for key in ("a1", "a2", "a3"):
        assert anna.post("/api/operations", json={"operations": [ops[key]]}).status_code == 200
    run_worker()  # the replacement copies a1's group, so a1 must be installed first
    for key in ("b1", "q", "r"):
        assert jussi.post("/api/operations", json={"operations": [ops[key]]}).status_code == 200
    run_worker()
    return {"ops": ops, "tuids": {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "new": new}}


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.json
    return [row["op_id"] for row in response.json["items"]]


def test_technicians_cannot_see_history(login: Any) -> None:
    api = login("technician")
    for url in ("/api/history", "/api/history.csv", "/api/history/devices/TSPR04EZU31901021"):
        response = api.get(url)
        assert response.status_code == 403, url
        assert response.json["error"]["code"] == "forbidden"


def test_unauthenticated_gets_401(app: Any) -> None:
    assert app.test_client().get("/api/history").status_code == 401


def test_every_operation_is_listed_with_who_what_where_and_the_platform_answer(
    login: Any, history: dict[str, Any]
) -> None:
    api = login("supervisor")
    response = api.get("/api/history")
    assert response.status_code == 200
    body = response.json
    assert body["totalElements"] == 6 and body["number"] == 0 and body["last"] is True
    assert body["totalPages"] == 1 and body["size"] == 50
    rows = {row["op_id"]: row for row in body["items"]}
    ops, tuids = history["ops"], history["tuids"]

    install = rows[ops["a1"]["op_id"]]
    assert install["technician"] == {"username": "anna", "display_name": "Anna Aho"}
    assert install["tuid"] == tuids["a1"] and install["kind"] == "install"
    assert install["group"] == "prfi00north" and install["state"] == "synced"
    assert install["device_type"] and install["device_time"].startswith(T0.date().isoformat())
    assert install["offline_delay_s"] > 0 and install["platform"]["outcome"] == "applied"

    failed = rows[ops["b1"]["op_id"]]
    assert failed["state"] == "failed"
    assert "prfi00missing" in failed["error"]["message"]
    assert failed["platform"]["http_status"] == 404
    assert "not found" in failed["platform"]["message"].lower()

    # A status change shows the group the technician saw the device in; a replacement the group
    # the new device was copied into.
    assert rows[ops["q"]["op_id"]]["group"] == "prfi00north"
    replaced = rows[ops["r"]["op_id"]]
    assert replaced["group"] == "prfi00north" and replaced["new_tuid"] == tuids["new"]
    # Default order: newest action first.
    assert [r["op_id"] for r in body["items"]][:2] == [ops["r"]["op_id"], ops["q"]["op_id"]]


def test_filters_narrow_the_rows(login: Any, history: dict[str, Any]) -> None:
    api = login("supervisor")
    ops, tuids = history["ops"], history["tuids"]
    mine = {o["op_id"] for k, o in ops.items() if k in ("a1", "a2", "a3")}
    assert set(_ids(api.get("/api/history?technician=ANNA"))) == mine
    assert set(_ids(api.get("/api/history?action=install&state=failed"))) == {ops["b1"]["op_id"]}
    assert set(_ids(api.get("/api/history?action=replace,set_status"))) == {
        ops["q"]["op_id"],
        ops["r"]["op_id"],
    }
    assert set(_ids(api.get("/api/history?state=synced&state=failed"))) == {
        o["op_id"] for o in ops.values()
    }
    north = set(_ids(api.get("/api/history?group=prfi00NORTH")))
    assert north == {ops[k]["op_id"] for k in ("a1", "a2", "q", "r")}

    # TUID search: any part, any case, and the replacement device counts too.
    fragment = tuids["a3"][5:12].lower()
    assert _ids(api.get(f"/api/history?tuid={fragment}")) == [ops["a3"]["op_id"]]
    assert _ids(api.get(f"/api/history?tuid={tuids['new'][-8:]}")) == [ops["r"]["op_id"]]
    assert _ids(api.get("/api/history?tuid=%25_")) == []  # LIKE wildcards are not wildcards

    day2 = (T0 + timedelta(days=1)).date().isoformat()
    assert set(_ids(api.get(f"/api/history?from={day2}&to={day2}"))) == {
        ops["a3"]["op_id"],
        ops["b1"]["op_id"],
    }
    start = (T0 + timedelta(minutes=30)).isoformat()
    until = (T0 + timedelta(days=1, minutes=1)).isoformat()
    # A "+" in an unencoded query string arrives as a space; the offset still counts.
    assert set(_ids(api.get(f"/api/history?from={start}&to={until}"))) == {
        ops["a2"]["op_id"],
        ops["a3"]["op_id"],
    }
    # All received today, performed days ago.
    today = datetime.now(UTC).date().isoformat()
    assert len(_ids(api.get(f"/api/history?from={today}&date_field=received_at"))) == 6
    assert _ids(api.get(f"/api/history?to={T0.date().isoformat()}&date_field=received_at")) == []


def test_bad_filters_are_422(login: Any, history: dict[str, Any]) -> None:
    api = login("supervisor")
    for query in (
        "state=lost",
        "action=fly",
        "from=yesterday",
        "from=2026-11-22T10:00:00",  # no zone
        "size=501",
        "page=-1",
        "sort=password,asc",
        "from=2026-11-23&to=2026-11-22",
    ):
        response = api.get(f"/api/history?{query}")
        assert response.status_code == 422, query
        assert response.json["error"]["code"] in ("validation_failed", "unprocessable")


def test_paging_and_sorting(login: Any, history: dict[str, Any]) -> None:
    api = login("supervisor")
    ops = history["ops"]
    first = api.get("/api/history?size=4&sort=device_time,asc").json
    second = api.get("/api/history?size=4&page=1&sort=device_time,asc").json
    assert first["totalElements"] == 6 and first["totalPages"] == 2 and first["last"] is False
    assert second["number"] == 1 and second["last"] is True and len(second["items"]) == 2
    ordered = [r["op_id"] for r in first["items"] + second["items"]]
    assert ordered == [ops[k]["op_id"] for k in ("a1", "a2", "a3", "b1", "q", "r")]

    by_tech = api.get("/api/history?sort=technician,asc&sort=device_time,desc").json["items"]
    assert [r["technician"]["username"] for r in by_tech] == ["anna"] * 3 + ["jussi"] * 3
    assert by_tech[0]["op_id"] == ops["a3"]["op_id"]
    # The seed's forms: "field desc" and a bare field (descending).
    assert _ids(api.get("/api/history?sort=device_time desc&size=1")) == [ops["r"]["op_id"]]
    assert _ids(api.get("/api/history?sort=state&size=1")) == _ids(
        api.get("/api/history?sort=state,desc&size=1")
    )
    beyond = api.get("/api/history?page=9").json
    assert beyond["items"] == [] and beyond["totalElements"] == 6 and beyond["last"] is True


def _csv_rows(response: Any) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_csv_export_has_exactly_the_filtered_rows(login: Any, history: dict[str, Any]) -> None:
    api = login("supervisor")
    response = api.get("/api/history.csv?technician=jussi&sort=device_time,asc")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    today = datetime.now(UTC).date().isoformat()
    assert disposition == f'attachment; filename="fieldhand-history-{today}.csv"'
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = _csv_rows(response)
    ops = history["ops"]
    assert [r["op_id"] for r in rows] == [ops[k]["op_id"] for k in ("b1", "q", "r")]
    listed = api.get("/api/history?technician=jussi&sort=device_time,asc").json["items"]
    assert [r["op_id"] for r in rows] == [r["op_id"] for r in listed]
    failed = rows[0]
    assert failed["state"] == "failed" and failed["platform_http_status"] == "404"
    assert failed["group"] == "prfi00missing" and failed["action"] == "install"
    assert rows[2]["new_tuid"] == history["tuids"]["new"]

    plain = api.get("/api/history.csv?bom=false&technician=nobody")
    assert not plain.get_data().startswith("\ufeff".encode())
    assert plain.get_data(as_text=True).splitlines() == [",".join(HISTORY_HEADER)]


def test_csv_quoting_round_trips_commas_quotes_newlines_and_non_ascii(
    login: Any, history: dict[str, Any]
) -> None:
    api = login("supervisor")
    rows = _csv_rows(api.get("/api/history.csv?technician=jussi"))
    assert {r["technician_name"] for r in rows} == {SPECIAL_NAME}
    assert {r["technician"] for r in rows} == {"jussi"}
    # The raw text really quoted them: one logical row spans two physical lines.
    text = api.get("/api/history.csv?technician=jussi&bom=false").get_data(as_text=True)
    assert '"Jääskeläinen, ""Jussi""\nvuoro 2"' in text


def test_csv_cells_cannot_run_as_spreadsheet_formulas(app: Any, login: Any, emulator: Any) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    tech = _client(app, "mallory", "technician", '=HYPERLINK("http://x")')
    tech.post("/api/operations", json={"operations": [op("set_status", tuid, status="installed")]})
    rows = _csv_rows(login("supervisor").get("/api/history.csv"))
    assert rows[0]["technician_name"] == '\'=HYPERLINK("http://x")'


def test_csv_streams_many_rows_in_chunks(app: Any, login: Any) -> None:
    from sqlalchemy import select

    from app.database import db
    from app.models.operations import Operation
    from app.models.users import User

    api = login("supervisor")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).limit(1))
        now = datetime.now(UTC)
        db.session.execute(
            Operation.__table__.insert(),
            [
                {
                    "op_id": f"00000000-0000-4000-8000-{i:012d}",
                    "kind": "set_status",
                    "tuid": f"TSPR04ABC{i:08d}",
                    "args": {"status": "retired"},
                    "user_id": user_id,
                    "device_time": now - timedelta(seconds=i),
                    "received_at": now,
                    "updated_at": now,
                    "state": "accepted",
                }
                for i in range(2500)
            ],
        )
        db.session.commit()
    response = api.get("/api/history.csv?sort=device_time,asc", buffered=False)
    pieces = list(response.response)
    # Header, then one piece per 1000-row chunk: the rows were never all in memory at once.
    assert len(pieces) == 4
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"), newline="")))
    assert rows[0] == list(HISTORY_HEADER)
    assert len(rows) == 2501
    assert rows[1][7] == "TSPR04ABC00002499" and rows[-1][7] == "TSPR04ABC00000000"
    response.close()


def test_csv_cells_are_those_of_history_cells_whoever_writes_them(app: Any, login: Any) -> None:
    """On PostgreSQL the database writes the CSV (COPY): cell for cell what history_cells()
    writes, for every device type rule, delays that round on a tie, whole and fractional
    seconds, empty and formula-like messages."""
    from sqlalchemy import select

    from app.database import db
    from app.labels.device_types import _FAMILY_BY_PREFIX, TYPE_BY_IMC
    from app.models.operations import Operation
    from app.models.users import User
    from app.services.exports import history_cells
    from app.services.history import iter_history
    from app.services.history_filters import HistoryFilter

    tuids = [imc + "00000001" for imc in TYPE_BY_IMC]
    tuids += [(prefix + "QQQQQQ")[:6] + "00000001" for prefix, _ in _FAMILY_BY_PREFIX]
    tuids += ["QQQQ0100000001", "TSGW", "tspr0400000009", "TSPR04"]
    delays = [0, 0.25, 0.35, 0.45, 0.75, 1.05, 2.5, 12345.65, -3.0, 86400 * 3 + 0.000001]
    messages = [None, "", "=1+1", "-x", 'plain, with "quotes"\nand a line']
    base = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
    api = login("supervisor")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).limit(1))
        rows = []
        for i, tuid in enumerate(tuids):
            device_time = base - timedelta(minutes=i, microseconds=(i % 3) * 250_000)
            rows.append(
                {
                    "op_id": f"00000000-0000-4000-8000-{i:012d}",
                    "kind": "install" if i % 2 else "replace",
                    "tuid": tuid,
                    "args": {"group_id": "prfi00north"} if i % 2 else {"new_tuid": "", "x": 1},
                    "user_id": user_id,
                    "device_time": device_time,
                    "received_at": device_time + timedelta(seconds=delays[i % len(delays)]),
                    "synced_at": None if i % 4 else device_time + timedelta(seconds=5),
                    "updated_at": device_time,
                    "seen_group": "" if i % 5 == 0 else "prfi00seen",
                    "state": "failed" if i % 3 else "synced",
                    "error_message": messages[i % len(messages)],
                }
            )
        db.session.execute(Operation.__table__.insert(), rows)
        db.session.commit()
        expected = [
            [str(cell) for cell in history_cells(row)]
            for chunk in iter_history(HistoryFilter(), [])
            for row in chunk
        ]
    text = api.get("/api/history.csv?bom=false").get_data(as_text=True)
    written = list(csv.reader(io.StringIO(text, newline="")))
    assert written[0] == list(HISTORY_HEADER)
    assert len(written) == len(tuids) + 1
    assert written[1:] == expected


def test_device_timeline_has_operations_steps_attempts_and_audit_oldest_first(
    login: Any, history: dict[str, Any]
) -> None:
    api = login("supervisor")
    ops, tuids = history["ops"], history["tuids"]
    api.post(f"/api/inbox/{ops['b1']['op_id']}/discard", json={"reason": "Wrong site"})

    a1 = api.get(f"/api/history/devices/{tuids['a1'].lower()}")
    assert a1.status_code == 200
    body = a1.json
    assert body["tuid"] == tuids["a1"] and body["device_type"] and body["truncated"] is False
    assert body["local"]["status"] == "retired"
    # The install was verified too (tests/verification): its audit event sits between.
    assert [e["operation"]["op_id"] for e in body["events"] if e["type"] == "operation"] == [
        ops["a1"]["op_id"],
        ops["r"]["op_id"],
    ]
    install = body["events"][0]["operation"]
    assert [s["action"] for s in install["steps"]] == ["set_status", "set_group"]
    attempt = install["steps"][0]["sync_attempts"][0]
    assert attempt["outcome"] == "applied" and attempt["attempt_no"] == 1

    # The replacement device's timeline holds the replace operation too.
    new = api.get(f"/api/history/devices/{tuids['new']}").json
    assert [e["operation"]["op_id"] for e in new["events"] if e["type"] == "operation"] == [
        ops["r"]["op_id"]
    ]

    b1 = api.get(f"/api/history/devices/{tuids['b1']}").json["events"]
    assert [e["type"] for e in b1] == ["operation", "audit"]
    assert b1[1]["audit"]["action"] == "inbox.discard"
    assert b1[1]["audit"]["reason"] == "Wrong site"
    assert b1[1]["audit"]["user"]["username"].startswith("supervisor")
    assert b1[0]["operation"]["state"] == "discarded"

    assert api.get("/api/history/devices/nope").status_code == 422
    unknown = api.get("/api/history/devices/TSPR04ZZZZZZZZZZZ").json
    assert unknown["events"] == [] and unknown["local"] is None
