"""GET/POST /things/{tuid}/commands: allowlist, validation, stamping and newest-first order."""

from __future__ import annotations

import httpx
import pytest

from emulator.server import EmulatorServer

from .conftest import assert_error

INTERVALS = {"tsmId": 1500, "tsmEv": 30, "measurementInterval": 60, "reportInterval": 300}


def test_post_stamps_time_and_destination(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    sent = [{**INTERVALS, "transactionId": 99999, "tsmDstTuid": "SOMETHINGELSE0000"}]

    response = api.post(f"things/{tuid}/commands", json=sent)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["responsible"] == emulator.client_id
    (command,) = data["commands"]
    assert command["tsmTs"] == int(emulator.state.clock.now())
    assert command["tsmDstTuid"] == tuid
    assert command["transactionId"] == 99999
    assert command["reportInterval"] == 300


def test_get_lists_what_was_sent_newest_first(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    api.post(f"things/{tuid}/commands", json=[INTERVALS])
    emulator.state.advance(10)
    api.post(f"things/{tuid}/commands", json=[{"tsmId": 13200, "tsmEv": 30, "threshold": 100}])

    listed = api.get(f"things/{tuid}/commands").json()["data"]

    assert [item["command"]["tsmId"] for item in listed] == [13200, 1500]
    assert set(listed[0]) == {"tuid", "timestamp", "responsible", "command"}
    assert listed[0]["timestamp"] == listed[1]["timestamp"] + 10
    latest = api.get(f"things/{tuid}/commands", params={"limit": 1}).json()["data"]
    assert latest == listed[:1]
    assert api.get(f"things/{tuid}/commands", params={"limit": 0}).json()["data"] == listed
    only = api.get(f"things/{tuid}/commands", params={"messageid": "1500"}).json()["data"]
    assert [item["command"]["tsmId"] for item in only] == [1500]


@pytest.mark.parametrize(
    "body",
    [
        {"tsmId": 1500, "tsmEv": 30},
        [],
        [{"tsmEv": 30}],
        [{"tsmId": 1500}],
        [{"tsmId": "1500", "tsmEv": 30}],
        [{"tsmId": 17110, "tsmEv": 30}],
        [INTERVALS, {"tsmId": 16200, "tsmEv": 30}],
        [{"tsmId": 1500, "tsmEv": 31}],
        [{**INTERVALS, "transactionId": -1}],
        [{**INTERVALS, "transactionId": 2_147_483_648}],
        ["1500"],
    ],
)
def test_bad_bodies_and_disallowed_ids_are_400_and_store_nothing(
    api: httpx.Client, tuid: str, body: object
) -> None:
    response = api.post(f"things/{tuid}/commands", json=body)

    assert_error(response, 400, "Bad Request")
    assert api.get(f"things/{tuid}/commands").json()["data"] == []


def test_non_json_body_is_400(api: httpx.Client, tuid: str) -> None:
    response = api.post(f"things/{tuid}/commands", content=b"[{", headers={"Content-Type": "x"})

    assert_error(response, 400, "Bad Request")


def test_allowlist_is_configurable(api: httpx.Client, emulator: EmulatorServer, tuid: str) -> None:
    emulator.state.update_settings(command_allowlist=[1500, 12211, 16200, 17220])

    allowed = api.post(f"things/{tuid}/commands", json=[{"tsmId": 17220, "tsmEv": 30}])
    refused = api.post(f"things/{tuid}/commands", json=[{"tsmId": 13200, "tsmEv": 30}])

    assert allowed.status_code == 200
    assert refused.status_code == 400


def test_header_only_command_asks_for_current_settings(api: httpx.Client, tuid: str) -> None:
    response = api.post(
        f"things/{tuid}/commands", json=[{"tsmId": 12200, "tsmEv": 30, "transactionId": 7}]
    )

    assert response.status_code == 200
    assert response.json()["data"]["commands"][0]["transactionId"] == 7
