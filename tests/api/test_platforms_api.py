"""The API on each platform: what /api/platform declares, device ids by the platform's rule,
the device card, and clear refusals for what a platform cannot do."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.database import db
from app.models.operations import Operation
from tests.factories import op
from tests.platforms import EmulatedPlatform

pytestmark = pytest.mark.all_platforms

DEVICE_ID_NAMES = {
    "thingsee": "TUID",
    "thingsmatrix": "sn",
    "thingscale": "device_id",
    "thingshub": "DevEUI",
}


def test_platform_endpoint_declares_the_platform_and_what_it_can_do(
    login: Any, emulated: EmulatedPlatform, platform_name: str
) -> None:
    api = login("technician")
    body = api.get("/api/platform").json
    assert body["key"] == platform_name
    assert body["device_id"]["name"] == DEVICE_ID_NAMES[platform_name]
    caps = body["capabilities"]
    assert caps["deployment_groups"] == emulated.has_groups
    assert caps["installation_history"] == (platform_name == "thingsee")
    assert body["rate_limit"] == (20.0 if platform_name == "thingscale" else 0.0)


def test_platform_endpoint_needs_a_session(app: Any) -> None:
    response = app.test_client().get("/api/platform")
    assert response.status_code == 401
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_labels_and_the_device_card_use_the_platform_id(
    login: Any, emulator: Any, emulated: EmulatedPlatform
) -> None:
    (device,) = emulator.state.add_devices(count=1)
    api = login("technician")
    parsed = api.post("/api/labels/parse", json={"text": emulated.label(device)})
    assert parsed.status_code == 200, parsed.json
    assert parsed.json["tuid"] == device

    card = api.get(f"/api/devices/{device.lower()}").json
    assert card["tuid"] == device
    assert card["platform"]["found"] and card["platform"]["status"] == emulated.fresh_status
    missing = api.get(f"/api/devices/{emulated.unknown_device}").json
    assert missing["platform"]["found"] is False


@pytest.mark.parametrize("text", ["SN:12345688922;SN:12345688923", "https://example.com/"])
def test_text_that_is_no_label_here_is_refused_clearly(login: Any, text: str) -> None:
    response = login("technician").post("/api/labels/parse", json={"text": text})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "not_a_device_label" and error["details"]["reason"]


def test_operations_validate_ids_by_the_platform_rule(
    app: Any, login: Any, platform_name: str
) -> None:
    api = login("technician")
    long_sn = "SN-" + "9" * 29  # 32 characters: longer than a TUID
    shaped = {
        "thingsee": ("TSPR04EZU31901021", "17 letters"),
        "thingsmatrix": (long_sn, "serial number"),
        "thingscale": ("XBEE_0013A20040B5", "device ID"),
        "thingshub": ("70B3D57ED0041D8A", "DevEUI"),
    }
    good, words = shaped[platform_name]
    bad = "NOT A DEVICE!"
    results = api.post(
        "/api/operations",
        json={
            "operations": [
                op("set_status", good.lower(), status="installed"),
                op("set_status", bad, status="installed"),
            ]
        },
    ).json["results"]
    assert [r["result"] for r in results] == ["accepted", "rejected"]
    assert words in results[1]["error"]["message"]
    with app.app_context():
        stored = db.session.scalar(select(Operation.tuid))
    assert stored == good  # a 32-character id fits in both databases


def test_a_platform_without_groups_installs_without_them_and_refuses_moves(
    app: Any, login: Any, emulator: Any, emulated: EmulatedPlatform, run_worker: Any
) -> None:
    if emulated.has_groups:
        pytest.skip("this platform has deployment groups")
    old, new = emulator.state.add_devices(count=2)
    api = login("technician")
    results = api.post(
        "/api/operations",
        json={
            "operations": [
                op("install", old, group_id="prfi00site"),
                op("replace", old, minutes=1, new_tuid=new, old_status="retired"),
                op("set_group", new, group_id="prfi00site"),
            ]
        },
    ).json["results"]
    assert [r["result"] for r in results] == ["accepted", "accepted", "rejected"]
    assert "has no deployment groups" in results[2]["error"]["message"]
    assert [s["action"] for s in results[0]["operation"]["steps"]] == ["set_status"]
    run_worker()
    history = {
        t: [r["installation_status"] for r in emulator.state.installation_history(t)]
        for t in (old, new)
    }
    assert history == {old: ["new", "installed", "retired"], new: ["new", "installed"]}

    supervisor = login("supervisor")
    assert supervisor.get("/api/groups").json["items"] == []
    created = supervisor.post("/api/groups", json={"group_id": "prfi00site"})
    assert created.status_code == 422 and "deployment groups" in created.json["error"]["message"]
    move = supervisor.post(
        "/api/bulk/preview", json={"action": "move", "target_group": "prfi00x", "tuids": [old]}
    )
    assert move.status_code == 422 and "no deployment groups" in move.json["error"]["message"]
    whole = supervisor.post("/api/bulk/preview", json={"action": "retire", "group_id": "prfi00x"})
    assert whole.status_code == 422


def test_renaming_a_group_where_ids_are_fixed_is_refused(
    login: Any, emulated: EmulatedPlatform, platform_name: str
) -> None:
    emulated.require_groups()
    site = emulated.group("prfi00site")
    response = login("supervisor").post(f"/api/groups/{site}/rename", json={"group_id": "prfi00x"})
    if platform_name == "thingsee":
        assert response.status_code == 200
    else:
        assert response.status_code == 422
        assert "rename" in response.json["error"]["message"]
