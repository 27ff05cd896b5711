"""GET /things/{tuid}/messages: required limit, filters, cap, order and deploymentGroupId."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.server import EmulatorServer

from .conftest import assert_error


def messages(api: httpx.Client, tuid: str, **params: str | int) -> list[dict[str, Any]]:
    response = api.get(f"things/{tuid}/messages", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_seeded_stream_is_newest_first_with_headers(api: httpx.Client, tuid: str) -> None:
    data = messages(api, tuid)

    assert len(data) >= 4
    stamps = [m["tsmTs"] for m in data]
    assert stamps == sorted(stamps, reverse=True)
    for message in data:
        assert message["tsmTuid"] == tuid
        assert message["deploymentGroupId"] == "unassigned"
        assert {"tsmId", "tsmEv", "tsmTs", "tsmGw"} <= set(message)


@pytest.mark.parametrize(
    "params",
    [{}, {"limit": ""}, {"limit": "ten"}, {"limit": "-1"}, {"limit": "1.5"}],
)
def test_missing_or_bad_limit_is_400(api: httpx.Client, tuid: str, params: dict[str, str]) -> None:
    response = api.get(f"things/{tuid}/messages", params=params)

    assert "limit" in assert_error(response, 400, "Bad Request")


@pytest.mark.parametrize(
    "params", [{"from": "yesterday"}, {"to": "now"}, {"messageid": "a,b"}, {"eventid": "x"}]
)
def test_non_numeric_filters_are_400(api: httpx.Client, tuid: str, params: dict[str, str]) -> None:
    response = api.get(f"things/{tuid}/messages", params={"limit": 5, **params})

    assert_error(response, 400, "Bad Request")


def test_limit_is_honoured_and_capped(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    assert len(messages(api, tuid, limit=2)) == 2

    emulator.state.update_settings(message_limit_cap=3)

    assert len(messages(api, tuid, limit=100)) == 3


def test_filters_by_message_id_event_and_inclusive_time_range(
    api: httpx.Client, tuid: str, control: httpx.Client
) -> None:
    control.post(f"devices/{tuid}/power-on")
    everything = messages(api, tuid)

    booted = messages(api, tuid, messageid="1100,1500")
    assert {m["tsmId"] for m in booted} == {1100, 1500}
    assert all(m["tsmEv"] == 31 for m in messages(api, tuid, eventid="31"))

    oldest = everything[-1]["tsmTs"]
    exact = messages(api, tuid, **{"from": oldest, "to": oldest})
    assert exact and all(m["tsmTs"] == oldest for m in exact)


def test_later_messages_carry_the_new_deployment_group(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.create_group("prfi00site")
    api.post(f"things/{tuid}/group", json={"group_id": "prfi00site"})
    before = messages(api, tuid)

    emulator.state.advance(2 * 3600 + 1)
    after = messages(api, tuid)

    new = after[: len(after) - len(before)]
    assert new, "an online device keeps reporting as time passes"
    assert all(m["deploymentGroupId"] == "prfi00site" for m in new)
    assert all(m["deploymentGroupId"] == "unassigned" for m in after[len(new) :])
