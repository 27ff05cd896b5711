"""What people see of install verification: the device card, history, the silent list."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.factories import op
from tests.verification.conftest import VerifyRig

TSPR = "TSPR04EZU319020"


def _install(rig: VerifyRig, tuid: str) -> str:
    operation = op("install", tuid, at=rig.now(), group_id="prfi00site")
    assert rig.api.post("/api/operations", json={"operations": [operation]}).status_code == 200
    return str(operation["op_id"])


def _verified_and_silent(rig: VerifyRig) -> tuple[str, str, str, str]:
    alive, quiet = rig.devices({TSPR + "01": 30, TSPR + "02": None})
    alive_op, quiet_op = _install(rig, alive), _install(rig, quiet)
    rig.run()
    for _ in range(6):
        rig.advance(300)
    return alive, quiet, alive_op, quiet_op


def test_the_device_card_shows_last_seen_messages_history_and_verification(
    rig: VerifyRig,
) -> None:
    alive, quiet, _, _ = _verified_and_silent(rig)

    card = rig.api.get(f"/api/devices/{alive}").json
    assert card["verification"]["state"] == "verified"
    assert card["platform"]["last_seen"] and card["platform"]["battery_level"] is not None
    kinds = [m["kind"] for m in card["platform"]["messages"]]
    assert "network_connected" in kinds and len(kinds) == 5
    assert [i["status"] for i in card["platform"]["installations"]][:2] == ["installed", "new"]
    silent = rig.api.get(f"/api/devices/{quiet}").json
    assert silent["verification"]["state"] == "silent"
    assert silent["verification"]["last_seen_at"] < silent["verification"]["installed_at"]


def test_opening_the_card_of_a_waiting_device_that_reported_verifies_it_without_a_look(
    rig: VerifyRig,
) -> None:
    (tuid,) = rig.devices({TSPR + "03": 10})
    _install(rig, tuid)
    rig.run()
    rig.emulator.state.advance(20)
    assert rig.verification(tuid).state == "waiting"

    card = rig.api.get(f"/api/devices/{tuid}").json

    assert card["verification"]["state"] == "verified"
    assert rig.verification(tuid).looks == 0


def test_history_has_a_verification_column_and_filter(rig: VerifyRig, login: Any) -> None:
    alive, quiet, _, _ = _verified_and_silent(rig)
    supervisor = login("supervisor")

    everything = supervisor.get("/api/history").json["items"]
    assert {(i["tuid"], i["verification"]) for i in everything} == {
        (alive, "verified"),
        (quiet, "silent"),
    }
    silent = supervisor.get("/api/history", query_string={"verification": "silent"}).json
    assert [i["tuid"] for i in silent["items"]] == [quiet]
    assert supervisor.get("/api/history", query_string={"verification": "nope"}).status_code == 422
    exported = supervisor.get("/api/history.csv", query_string={"bom": "false"})
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {r["tuid"]: r["verification"] for r in rows} == {alive: "verified", quiet: "silent"}


def test_the_timeline_shows_when_the_device_was_verified(rig: VerifyRig, login: Any) -> None:
    alive, _, _, _ = _verified_and_silent(rig)
    timeline = login("supervisor").get(f"/api/history/devices/{alive}").json
    audits = [e["audit"] for e in timeline["events"] if e["type"] == "audit"]
    assert [a["action"] for a in audits] == ["verify.verified"]
    assert timeline["verification"]["state"] == "verified"
    assert timeline["verification"]["verified_at"] == audits[0]["at"]


def test_the_silent_list_by_group_and_technician_and_its_csv(rig: VerifyRig, login: Any) -> None:
    _, quiet, _, _ = _verified_and_silent(rig)
    supervisor = login("supervisor")
    technician = rig.api.user["username"]  # type: ignore[index]

    listed = supervisor.get("/api/verifications/silent", query_string={"group": "prfi00site"}).json
    assert [i["tuid"] for i in listed["items"]] == [quiet] and listed["totalElements"] == 1
    assert listed["items"][0]["technician"]["username"] == technician
    other = supervisor.get("/api/verifications/silent", query_string={"technician": "nobody"})
    assert other.json["items"] == []
    exported = supervisor.get(
        "/api/verifications/silent.csv", query_string={"technician": technician, "bom": "false"}
    )
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["tuid"] for r in rows] == [quiet] and rows[0]["group"] == "prfi00site"
    assert rig.api.get("/api/verifications/silent").status_code == 403


def test_a_phone_reads_its_batch_states_and_only_its_own(rig: VerifyRig, login: Any) -> None:
    _, _, alive_op, quiet_op = _verified_and_silent(rig)

    mine = rig.api.get("/api/verifications", query_string={"ops": f"{alive_op},{quiet_op}"}).json
    assert {k: v["state"] for k, v in mine["items"].items()} == {
        alive_op: "verified",
        quiet_op: "silent",
    }
    stranger = login("technician")
    assert stranger.get("/api/verifications", query_string={"ops": alive_op}).json["items"] == {}
