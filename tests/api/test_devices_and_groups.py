"""The device card and deployment groups, live from the emulator and from the local cache."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import op


def _cut_platform(app: Any) -> None:
    """Point the app's platform client at a closed port, as when the platform is down."""
    from app.platform.provider import EXTENSION_KEY
    from app.platform.thingsee import ThingseeClient

    previous = app.extensions.pop(EXTENSION_KEY, None)
    if previous is not None:
        previous.close()
    app.extensions[EXTENSION_KEY] = ThingseeClient(
        "http://127.0.0.1:9/prod/v1/", "id", "secret", timeout=0.5, max_retries=0
    )


@pytest.fixture
def unreachable_platform(app: Any) -> None:
    _cut_platform(app)


def test_device_card_combines_live_platform_state_and_local_history(
    login: Any, emulator: Any
) -> None:
    (tuid,) = emulator.state.add_devices(tuids=["TSPR04EZU31901021"])
    api = login("technician")
    api.post("/api/operations", json={"operations": [op("set_status", tuid, status="quarantine")]})

    card = api.get(f"/api/devices/{tuid.lower()}").json

    assert card["tuid"] == tuid and card["imc"] == "TSPR04" and card["psn"] == "EZU31901021"
    assert card["device_type"] == "PRESENCE"
    assert card["platform"]["reachable"] and card["platform"]["found"]
    assert card["platform"]["status"] == "new"  # not synced yet: the platform still says new
    assert card["platform"]["group"] == "unassigned"
    assert card["local"]["status"] == "quarantine" and card["local"]["source"] == "local"
    assert [h["kind"] for h in card["history"]] == ["set_status"]


def test_device_unknown_to_the_platform_says_so(login: Any, emulator: Any) -> None:
    card = login("technician").get("/api/devices/TSPR04ZZZZZZZZZZZ").json
    assert card["platform"]["reachable"] is True
    assert card["platform"]["found"] is False
    assert "not in the platform stack" in card["platform"]["message"]


def test_device_card_when_platform_is_unreachable(login: Any, unreachable_platform: None) -> None:
    card = login("technician").get("/api/devices/TSPR04EZU31901021").json
    assert card["platform"]["reachable"] is False
    assert card["platform"]["message"].startswith("Platform unreachable")


def test_malformed_tuid_is_a_clear_422(login: Any) -> None:
    response = login("technician").get("/api/devices/not-a-device")
    assert response.status_code == 422
    assert "17 letters" in response.json["error"]["message"]


def test_groups_are_listed_live_and_then_served_from_cache_when_offline(
    app: Any, login: Any, emulator: Any
) -> None:
    emulator.state.create_group("prfi00hall", "Main hall")
    api = login("technician")
    live = api.get("/api/groups").json
    assert live["source"] == "platform"
    assert {
        "group_id": "prfi00hall",
        "description": "Main hall",
        "follows_convention": True,
    } in live["items"]

    _cut_platform(app)
    cached = api.get("/api/groups").json
    assert cached["source"] == "cache"
    assert [g["group_id"] for g in cached["items"]] == [g["group_id"] for g in live["items"]]
    assert cached["message"].startswith("Platform unreachable")


def test_supervisor_creates_renames_and_deletes_a_group(login: Any, emulator: Any) -> None:
    api = login("supervisor")
    (tuid,) = emulator.state.add_devices(count=1)
    created = api.post("/api/groups", json={"group_id": " PRFI00 Site-7 ", "description": "Site 7"})
    assert created.status_code == 201
    assert created.json["group_id"] == "prfi00site7"
    emulator.state.assign_group(tuid, "prfi00site7")

    duplicate = api.post("/api/groups", json={"group_id": "prfi00site7"})
    assert duplicate.status_code == 409

    renamed = api.post("/api/groups/prfi00site7/rename", json={"group_id": "prfi00site8"})
    assert renamed.status_code == 200 and renamed.json["group_id"] == "prfi00site8"
    assert emulator.state.group_of(tuid) == "prfi00site8"

    deleted = api.delete("/api/groups/prfi00site8")
    assert deleted.status_code == 200 and deleted.json["deleted"] is True
    assert emulator.state.group_of(tuid) == "unassigned"
    ids = [g["group_id"] for g in api.get("/api/groups").json["items"]]
    assert "prfi00site8" not in ids


def test_group_ids_are_validated(login: Any) -> None:
    api = login("admin")
    reserved = api.post("/api/groups", json={"group_id": "Unassigned"})
    assert reserved.status_code == 422 and "reserved" in reserved.json["error"]["message"]
    empty = api.post("/api/groups", json={"group_id": "--"})
    assert empty.status_code == 422
    missing = api.delete("/api/groups/prfi00nothere")
    assert missing.status_code == 404


def test_group_changes_need_a_supervisor_and_platform(
    login: Any, unreachable_platform: None
) -> None:
    assert login("technician").post("/api/groups", json={"group_id": "x1"}).status_code == 403
    down = login("supervisor").post("/api/groups", json={"group_id": "prfi00new"})
    assert down.status_code == 503
    assert "unreachable" in down.json["error"]["message"]


def test_login_is_rate_limited(app: Any, make_user: Any) -> None:
    make_user("rita", "technician")
    client = app.test_client()
    codes = [
        client.post("/api/auth/login", json={"username": "rita", "password": "wrong"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[-1] == 429
    limited = client.post("/api/auth/login", json={"username": "rita", "password": "wrong"})
    assert limited.json["error"]["code"] == "rate_limited"


def test_groups_list_says_who_may_create_them(login: Any, emulator: Any) -> None:
    technician = login("technician").get("/api/groups").json
    assert technician["can_create"] is False
    assert technician["creators"] == ["supervisor", "admin"]
    assert login("supervisor").get("/api/groups").json["can_create"] is True


@pytest.fixture
def technicians_create_groups(app_config: dict[str, Any]) -> None:
    app_config["TECHNICIANS_CREATE_GROUPS"] = True


def test_an_admin_lets_technicians_create_groups_in_the_console_setting(
    login: Any, emulator: Any
) -> None:
    admin, supervisor, technician = login("admin"), login("supervisor"), login("technician")
    before = supervisor.get("/api/settings")
    assert before.status_code == 200
    assert before.json["technicians_create_groups"] is False
    assert before.json["defaults"]["technicians_create_groups"] is False
    assert before.json["changed"]["technicians_create_groups"] is None
    assert technician.get("/api/settings").status_code == 403
    refused = supervisor.put("/api/settings", json={"technicians_create_groups": True})
    assert refused.status_code == 403
    assert technician.post("/api/groups", json={"group_id": "prfi00site"}).status_code == 403

    allowed = admin.put("/api/settings", json={"technicians_create_groups": True})
    assert allowed.status_code == 200
    assert allowed.json["technicians_create_groups"] is True
    assert allowed.json["changed"]["technicians_create_groups"]["by"]
    listed = technician.get("/api/groups").json
    assert listed["can_create"] is True and "technician" in listed["creators"]
    assert technician.post("/api/groups", json={"group_id": "prfi00site"}).status_code == 201

    assert admin.put("/api/settings", json={"technicians_create_groups": False}).status_code == 200
    assert technician.get("/api/groups").json["can_create"] is False
    assert technician.post("/api/groups", json={"group_id": "prfi00other"}).status_code == 403


def test_the_environment_only_sets_the_default_until_an_admin_chooses(
    technicians_create_groups: None, login: Any, emulator: Any
) -> None:
    admin, technician = login("admin"), login("technician")
    assert technician.get("/api/groups").json["can_create"] is True
    settings = admin.put("/api/settings", json={"technicians_create_groups": False}).json
    assert settings["defaults"]["technicians_create_groups"] is True
    assert settings["technicians_create_groups"] is False
    assert technician.get("/api/groups").json["can_create"] is False


def test_an_environment_default_lets_technicians_create_groups(
    technicians_create_groups: None, login: Any, emulator: Any
) -> None:
    api = login("technician")
    listed = api.get("/api/groups").json
    assert listed["can_create"] is True
    assert "technician" in listed["creators"]
    created = api.post("/api/groups", json={"group_id": "prfi00basement"})
    assert created.status_code == 201
    assert created.json["group_id"] == "prfi00basement"
    # Renaming and deleting stay with supervisors and admins.
    assert api.post("/api/groups/prfi00basement/rename", json={"group_id": "x2"}).status_code == 403
    assert api.delete("/api/groups/prfi00basement").status_code == 403


def test_a_technician_refused_a_group_is_told_who_can(login: Any) -> None:
    refused = login("technician").post("/api/groups", json={"group_id": "prfi00new"})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    assert "supervisors and admins" in refused.json["error"]["message"]
    assert "console" in refused.json["error"]["message"]


def test_phones_listing_new_groups_at_once_all_get_them(app: Any) -> None:
    """Several phones list groups at the same moment, each finding the same new groups missing
    from the cache: every one gets the list (it was a 500 for all but one on PostgreSQL)."""
    from types import SimpleNamespace

    from app.database import db
    from app.models.devices import DeploymentGroup
    from app.services import groups as groups_service

    phones = 6
    for round_ in range(8):
        names = [f"prfi00r{round_}g{i}" for i in range(5)]
        platform = SimpleNamespace(
            list_groups=lambda names=names: [
                SimpleNamespace(group_id=name, description=f"Hall {name}") for name in names
            ]
        )
        start = threading.Barrier(phones)
        failures: list[BaseException] = []

        def phone(
            platform: Any = platform,
            start: threading.Barrier = start,
            failures: list[BaseException] = failures,
        ) -> None:
            with app.app_context():
                start.wait()
                try:
                    groups_service.list_groups(platform)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    failures.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=phone) for _ in range(phones)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert failures == []
        with app.app_context():
            rows = db.session.scalars(select(DeploymentGroup)).all()
            assert sorted(row.group_id for row in rows) == sorted(names)
            assert {row.description for row in rows} == {f"Hall {name}" for name in names}
