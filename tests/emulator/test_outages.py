"""Outages that keep state, stalls that apply after the client gave up, the write history."""

from __future__ import annotations

import time

import httpx
import pytest

from emulator.server import EmulatorServer

INSTALLED = {"installation_status": "installed"}


@pytest.mark.parametrize("mode", ["drop", "503"])
def test_an_outage_stops_answering_then_answers_again_with_every_device_kept(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str, mode: str
) -> None:
    assert api.post(f"things/{tuid}/installations", json=INSTALLED).status_code == 200
    control.post("settings", json={"outage": mode})

    if mode == "drop":
        # The connection is closed with no answer at all, as a dead load balancer does.
        with pytest.raises(httpx.RemoteProtocolError):
            api.post(f"things/{tuid}/group", json={"group_id": "unassigned"})
        with pytest.raises(httpx.RemoteProtocolError):
            api.get(f"things/{tuid}")
    else:
        refused = api.post(f"things/{tuid}/installations", json={"installation_status": "new"})
        assert refused.status_code == 503
        assert refused.json() == {"message": "Service Unavailable"}
    # The control surface keeps working, and nothing was applied during the outage.
    assert control.get("stats").status_code == 200
    assert {c.fault for c in emulator.state.call_log[-1:]} == {"outage"}

    control.post("settings", json={"outage": ""})
    history = api.get(f"things/{tuid}/installations").json()["data"]
    assert [r["installation_status"] for r in history] == ["installed", "new"]
    assert tuid in emulator.state.tuids()


def test_outage_mode_is_checked(control: httpx.Client) -> None:
    assert control.post("settings", json={"outage": "sometimes"}).status_code == 400
    assert control.post("settings", json={"stall_share": 1.5}).status_code == 400
    assert control.post("settings", json={"stall_methods": [1]}).status_code == 400


def test_a_stall_can_target_writes_and_a_share_of_them(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    tuids = emulator.state.add_devices(count=40)
    emulator.state.update_settings(
        stall_ms=300, stall_methods=["post"], stall_paths=["/installations"], stall_share=0.5
    )

    assert api.get(f"things/{tuids[0]}/installations", timeout=0.2).status_code == 200
    timed_out = 0
    for tuid in tuids:
        try:
            api.post(f"things/{tuid}/installations", json=INSTALLED, timeout=0.15)
        except httpx.ReadTimeout:
            timed_out += 1
    assert 5 <= timed_out <= 35

    # Every stalled write still lands once the client has given up on it.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if all(len(emulator.state.installation_history(t)) == 2 for t in tuids):
            break
        time.sleep(0.05)
    assert all(len(emulator.state.installation_history(t)) == 2 for t in tuids)


def test_history_lists_every_write_oldest_first(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.create_group("prfi00site")
    api.post(f"things/{tuid}/installations", json=INSTALLED)
    api.post(f"things/{tuid}/group", json={"group_id": "prfi00site"})
    api.post(f"things/{tuid}/group", json={"group_id": "unassigned"})

    devices = control.get("history", params={"tuids": tuid}).json()["devices"]

    record = devices[tuid]
    assert [r["installation_status"] for r in record["installations"]] == ["new", "installed"]
    changes = record["group_changes"]
    assert [g["group_id"] for g in changes] == ["unassigned", "prfi00site", "unassigned"]
    assert [g["at"] for g in changes] == sorted(g["at"] for g in changes)
    assert record["group_id"] == "unassigned"
    assert set(control.get("history").json()["devices"]) == set(emulator.state.tuids())


def test_a_stalled_write_applies_even_if_its_token_expires_meanwhile(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    # The gateway authorises on arrival; the slow backend applies the write afterwards.
    emulator.state.update_settings(stall_ms=300, stall_methods=["POST"])
    with pytest.raises(httpx.ReadTimeout):
        api.post(f"things/{tuid}/installations", json=INSTALLED, timeout=0.1)
    emulator.state.advance(emulator.state.settings.token_ttl + 5)

    deadline = time.monotonic() + 3
    while len(emulator.state.installation_history(tuid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r["installation_status"] for r in emulator.state.installation_history(tuid)] == [
        "new",
        "installed",
    ]
