"""Device simulation: seeded fleets, the boot sequence, silence and `heartbeat missed` alerts."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from emulator.server import EmulatorServer
from emulator.state import EmulatorConfig, EmulatorState
from emulator.tuids import KIND_BY_PREFIX, TUID_PATTERN

from .conftest import assert_error

HOUR = 3600


def test_seeded_tuids_are_realistic_and_repeatable() -> None:
    fleet = EmulatorState(EmulatorConfig(devices=60, seed=11)).tuids()

    assert len(set(fleet)) == 60
    assert all(TUID_PATTERN.match(tuid) and tuid[:6] in KIND_BY_PREFIX for tuid in fleet)
    assert len({tuid[:6] for tuid in fleet}) > 8, "the fleet spans the prefix table"
    assert EmulatorState(EmulatorConfig(devices=60, seed=11)).tuids() == fleet
    assert EmulatorState(EmulatorConfig(devices=60, seed=12)).tuids() != fleet


def test_reset_reseeds_the_same_fleet() -> None:
    state = EmulatorState(EmulatorConfig(devices=5, seed=3))
    fleet = state.tuids()
    state.add_devices(count=2)

    state.reset()

    assert state.tuids() == fleet


def test_control_adds_devices_by_tuid_or_count(
    control: httpx.Client, emulator: EmulatorServer
) -> None:
    named = control.post("devices", json={"tuids": ["TSPR04EZU31901021"]}).json()["tuids"]
    counted = control.post("devices", json={"count": 3}).json()["tuids"]
    again = control.post("devices", json={"tuids": ["TSPR04EZU31901021"]}).json()["tuids"]

    assert named == again == ["TSPR04EZU31901021"]
    assert len(counted) == 3
    assert control.get("devices").json()["tuids"] == named + counted
    assert_error(control.post("devices", json={"tuids": ["tspr04short"]}), 400, "Bad Request")
    assert_error(control.post("devices", json={"count": -1}), 400, "Bad Request")
    assert_error(control.post("devices", json={}), 400, "Bad Request")


def test_power_on_produces_the_boot_sequence(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer
) -> None:
    (tuid,) = emulator.state.add_devices(["TSPD04EZU31901021"])
    emulator.state.advance(600)
    booted_at = int(emulator.state.clock.now())

    response = control.post(f"devices/{tuid}/power-on").json()

    boot = response["messages"]
    assert [(m["tsmId"], m["tsmEv"]) for m in reversed(boot)] == [
        (1100, 11),
        (1202, 17),
        (1110, 10),
        (1202, 10),
        (1500, 31),
        (12100, 10),
    ]
    assert all(m["tsmTs"] >= booted_at for m in boot)
    latest = api.get(f"things/{tuid}/messages", params={"limit": len(boot)}).json()["data"]
    assert latest == boot
    assert api.get(f"things/{tuid}").json()["data"]["timestamp"] >= booted_at
    assert_error(control.post("devices/TSPR04ZZZ00000000/power-on"), 404, "Not Found")


def test_online_devices_keep_reporting_and_offline_ones_go_silent(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer
) -> None:
    online, offline = emulator.state.add_devices(count=2)
    control.post(f"devices/{offline}/offline")
    counts = {
        t: len(api.get(f"things/{t}/messages", params={"limit": 0}).json()["data"])
        for t in (online, offline)
    }

    emulator.state.advance(5 * HOUR)

    assert len(api.get(f"things/{online}/messages", params={"limit": 0}).json()["data"]) >= (
        counts[online] + 5
    )
    assert (
        len(api.get(f"things/{offline}/messages", params={"limit": 0}).json()["data"])
        == (counts[offline])
    )


def test_offline_device_raises_heartbeat_missed_after_the_threshold(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer
) -> None:
    quiet, fine = emulator.state.add_devices(count=2)
    control.post(f"devices/{quiet}/offline")
    last_seen = api.get(f"things/{quiet}").json()["data"]["timestamp"]

    assert api.get("things/alerts").json() == {"data": {"alerting_tuids": []}}
    assert api.get("things/alerts/count").json() == {"data": {"alert_count": "0"}}

    emulator.state.advance(2 * HOUR + 1)

    assert api.get("things/alerts").json()["data"]["alerting_tuids"] == [quiet]
    assert api.get("things/alerts/count").json()["data"]["alert_count"] == "1"
    alerts = api.get(f"things/{quiet}/alerts").json()["data"]
    expected_from = datetime.fromtimestamp(last_seen + 2 * HOUR, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert alerts == [
        {
            "tuid": quiet,
            "alert_type": "heartbeat missed",
            "alerts": [{"from": expected_from, "to": None}],
        }
    ]
    assert api.get(f"things/{fine}/alerts").json()["data"] == []
    assert control.get(f"things/{quiet}").json()["alerting"] is True


def test_power_on_closes_the_alert(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    control.post(f"devices/{tuid}/offline")
    emulator.state.advance(3 * HOUR)

    control.post(f"devices/{tuid}/power-on")

    assert api.get("things/alerts").json()["data"]["alerting_tuids"] == []
    (closed,) = api.get(f"things/{tuid}/alerts").json()["data"][0]["alerts"]
    assert closed["to"] is not None and closed["from"] < closed["to"]
    now = int(emulator.state.clock.now())
    assert api.get(f"things/{tuid}/alerts", params={"from": now + 10}).json()["data"] == []
    assert api.get(f"things/{tuid}/alerts", params={"to": now - 10 * HOUR}).json()["data"] == []


def test_alert_threshold_is_a_setting(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    control.post("settings", json={"heartbeat_missed_after_s": 7 * HOUR})
    control.post(f"devices/{tuid}/offline")

    emulator.state.advance(3 * HOUR)
    assert api.get("things/alerts/count").json()["data"]["alert_count"] == "0"
    emulator.state.advance(5 * HOUR)
    assert api.get("things/alerts/count").json()["data"]["alert_count"] == "1"


@pytest.mark.parametrize("params", [{"from": "x"}, {"to": "later"}])
def test_non_numeric_alert_range_is_400(
    api: httpx.Client, tuid: str, params: dict[str, str]
) -> None:
    assert_error(api.get(f"things/{tuid}/alerts", params=params), 400, "Bad Request")


def test_cli_style_fleets_start_with_some_silent_devices() -> None:
    state = EmulatorState(EmulatorConfig(devices=200, seed=5, offline_share=0.05))

    alerting = state.alerting_tuids()

    assert 1 <= len(alerting) <= 30


def test_a_power_plan_unpowers_devices_and_powers_each_on_after_its_delay(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer
) -> None:
    prompt, late, never = emulator.state.add_devices(count=3)
    seen = {t: api.get(f"things/{t}").json()["data"]["timestamp"] for t in (prompt, late, never)}
    start = control.post(
        "power-plan", json={"devices": {prompt: 60, late: 1200, never: None}}
    ).json()["now"]

    emulator.state.advance(300)
    after_5_min = {t: api.get(f"things/{t}").json()["data"]["timestamp"] for t in seen}
    emulator.state.advance(3600)
    after_an_hour = {t: api.get(f"things/{t}").json()["data"]["timestamp"] for t in seen}

    # The boot sequence is stamped with the planned power-on time, on the emulator's clock.
    assert after_5_min[prompt] >= int(start + 60)
    assert after_5_min[late] == seen[late] and after_5_min[never] == seen[never]
    assert after_an_hour[late] >= int(start + 1200)
    assert after_an_hour[never] == seen[never]
    boot = api.get(f"things/{late}/messages", params={"limit": 20}).json()["data"]
    assert any(m["tsmEv"] == 11 and m["tsmTs"] == int(start + 1200) for m in boot)
    assert_error(control.post("power-plan", json={"devices": {prompt: -1}}), 400, "Bad Request")
    assert_error(
        control.post("power-plan", json={"devices": {"TSPR04ZZZ00000000": 5}}), 404, "Not Found"
    )
