"""GET /things/{tuid}, installations and group assignment; 404s for unknown TUIDs."""

from __future__ import annotations

import httpx
import pytest

from app.platform.interface import INSTALLATION_STATUSES
from emulator.server import EmulatorServer

from .conftest import assert_error

UNKNOWN = "TSPR04ZZZ00000000"


def test_thing_info_shape(api: httpx.Client, emulator: EmulatorServer) -> None:
    (tuid,) = emulator.state.add_devices(["TSPD02EZU31901021"])

    data = api.get(f"things/{tuid}").json()["data"]

    assert isinstance(data["timestamp"], int)
    assert 0 < data["battery_level"] <= 100
    assert set(data["location"]) == {"lat", "lon"}
    assert len(data["gateway_tuid"]) == 17
    assert isinstance(data["version"], str)
    latest = api.get(f"things/{tuid}/messages", params={"limit": 1}).json()["data"][0]
    assert data["timestamp"] == latest["tsmTs"]


def test_gateways_report_no_battery_level(api: httpx.Client, emulator: EmulatorServer) -> None:
    (gateway,) = emulator.state.add_devices(["TSGW01ABC12345678"])

    data = api.get(f"things/{gateway}").json()["data"]

    assert "battery_level" not in data
    assert "gateway_tuid" not in data


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("GET", "/messages?limit=5", None),
        ("GET", "/commands", None),
        ("POST", "/commands", [{"tsmId": 1500, "tsmEv": 30}]),
        ("GET", "/installations?limit=1", None),
        ("POST", "/installations", {"installation_status": "installed"}),
        ("GET", "/group", None),
        ("POST", "/group", {"group_id": "unassigned"}),
        ("GET", "/alerts", None),
    ],
)
def test_unknown_tuid_is_404_on_every_thing_route(
    api: httpx.Client, method: str, path: str, body: object
) -> None:
    response = api.request(method, f"things/{UNKNOWN}{path}", json=body)

    assert UNKNOWN in assert_error(response, 404, "Not Found")


def test_seeded_device_starts_new_and_unassigned(api: httpx.Client, tuid: str) -> None:
    history = api.get(f"things/{tuid}/installations").json()["data"]
    group = api.get(f"things/{tuid}/group").json()["data"]

    assert len(history) == 1
    assert history[0]["installation_status"] == "new"
    assert set(history[0]) == {"tuid", "installation_status", "timestamp", "responsible"}
    assert group == {"group_id": "unassigned", "tuid": tuid}


def test_status_change_appends_history_newest_first(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    response = api.post(f"things/{tuid}/installations", json={"installation_status": "installed"})
    assert response.json() == {"data": {"tuid": tuid, "installation_status": "installed"}}
    installed_at = int(emulator.state.clock.now())
    emulator.state.advance(60)
    api.post(f"things/{tuid}/installations", json={"installation_status": "quarantine"})

    history = api.get(f"things/{tuid}/installations").json()["data"]

    assert [r["installation_status"] for r in history] == ["quarantine", "installed", "new"]
    assert history[1]["responsible"] == emulator.client_id
    assert history[1]["timestamp"] == installed_at
    assert history[0]["timestamp"] == installed_at + 60
    latest = api.get(f"things/{tuid}/installations", params={"limit": 1}).json()["data"]
    assert latest == history[:1]


@pytest.mark.parametrize("status", INSTALLATION_STATUSES)
def test_every_transition_is_accepted_including_repeats(
    api: httpx.Client, emulator: EmulatorServer, tuid: str, status: str
) -> None:
    for _ in range(2):
        response = api.post(f"things/{tuid}/installations", json={"installation_status": status})
        assert response.status_code == 200

    assert len(emulator.state.installation_history(tuid)) == 3


@pytest.mark.parametrize(
    "body",
    [
        {"installation_status": "Installed"},
        {"installation_status": "broken"},
        {"installation_status": ""},
        {"installation_status": None},
        {"installation_status": 1},
        {},
        ["installed"],
    ],
)
def test_invalid_installation_status_is_400_and_stores_nothing(
    api: httpx.Client, emulator: EmulatorServer, tuid: str, body: object
) -> None:
    response = api.post(f"things/{tuid}/installations", json=body)

    assert_error(response, 400, "Bad Request")
    assert len(emulator.state.installation_history(tuid)) == 1


def test_non_numeric_installations_limit_is_400(api: httpx.Client, tuid: str) -> None:
    response = api.get(f"things/{tuid}/installations", params={"limit": "one"})

    assert_error(response, 400, "Bad Request")


def test_get_ignores_a_json_content_type_and_posts_accept_charset(
    api: httpx.Client, tuid: str
) -> None:
    headers = {"Content-Type": "application/json; charset=UTF-8"}

    assert api.get(f"things/{tuid}", headers=headers).status_code == 200
    response = api.post(
        f"things/{tuid}/installations",
        content=b'{"installation_status":"installed"}',
        headers=headers,
    )
    assert response.status_code == 200


def test_assigning_a_group_and_back_to_unassigned(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.create_group("prfi00site")

    response = api.post(f"things/{tuid}/group", json={"group_id": "prfi00site"})
    assert response.json() == {"data": {"group_id": "prfi00site", "tuid": tuid}}
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "prfi00site"

    api.post(f"things/{tuid}/group", json={"group_id": "unassigned"})
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "unassigned"


def test_assigning_an_unknown_group_is_404(api: httpx.Client, tuid: str) -> None:
    response = api.post(f"things/{tuid}/group", json={"group_id": "prfi00nowhere"})

    assert_error(response, 404, "Not Found")


@pytest.mark.parametrize("body", [{}, {"group_id": ""}, {"group_id": 3}, "prfi00site"])
def test_assigning_without_a_group_id_is_400(api: httpx.Client, tuid: str, body: object) -> None:
    response = api.post(f"things/{tuid}/group", json=body)

    assert_error(response, 400, "Bad Request")


def test_unknown_api_route_and_method(api: httpx.Client, tuid: str) -> None:
    assert_error(api.get("nothing/here"), 404, "Not Found")
    assert_error(api.delete(f"things/{tuid}"), 405, "Method Not Allowed")
