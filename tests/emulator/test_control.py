"""The /_emulator/ control surface, the call log, stats, reset and the server's lifecycle."""

from __future__ import annotations

import httpx
import pytest

from emulator.server import EmulatorServer, start_emulator
from emulator.state import EmulatorConfig

from .conftest import assert_error


def test_call_log_records_api_requests_and_pages_by_id(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    api.get(f"things/{tuid}")
    api.get("things/TSPR04ZZZ00000000")
    control.get("stats")  # control requests are not API calls

    calls = control.get("calls").json()["calls"]

    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("POST", "/prod/v1/auth/client-token", 200),
        ("GET", f"/prod/v1/things/{tuid}", 200),
        ("GET", "/prod/v1/things/TSPR04ZZZ00000000", 404),
    ]
    assert {c["client_id"] for c in calls} == {emulator.client_id}
    assert {"id", "time", "method", "path", "status", "client_id"} <= set(calls[0])
    later = control.get("calls", params={"since_id": calls[1]["id"]}).json()["calls"]
    assert later == calls[2:]
    assert [c.id for c in emulator.state.call_log] == [c["id"] for c in calls]


def test_clearing_calls_keeps_ids_increasing(api: httpx.Client, control: httpx.Client) -> None:
    last = control.get("calls").json()["calls"][-1]["id"]

    assert control.delete("calls").status_code == 200
    assert control.get("calls").json()["calls"] == []
    api.get("groups")
    assert control.get("calls").json()["calls"][0]["id"] > last


def test_stats_count_requests_tokens_and_installation_writes(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer
) -> None:
    first, second = emulator.state.add_devices(count=2)
    for tuid in (first, first, second):
        api.post(f"things/{tuid}/installations", json={"installation_status": "installed"})

    stats = control.get("stats").json()

    assert stats["token_requests"] == 1
    assert stats["requests"] == 4
    assert stats["installations_by_tuid"] == {first: 2, second: 1}


def test_thing_snapshot_holds_the_full_history_oldest_first(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    api.post(f"things/{tuid}/installations", json={"installation_status": "installed"})
    api.post(f"things/{tuid}/installations", json={"installation_status": "retired"})

    snapshot = control.get(f"things/{tuid}").json()

    assert [r["installation_status"] for r in snapshot["installations"]] == [
        "new",
        "installed",
        "retired",
    ]
    assert snapshot["installation_status"] == "retired"
    assert snapshot["group_id"] == "unassigned"
    assert snapshot["messages"] >= 4
    assert snapshot["online"] is True
    assert_error(control.get("things/TSPR04ZZZ00000000"), 404, "Not Found")


def test_reset_clears_everything_and_restores_settings(
    control: httpx.Client, emulator: EmulatorServer, token: str
) -> None:
    emulator.state.add_devices(count=3)
    emulator.state.create_group("prfi00site")
    control.post("settings", json={"latency_ms": 5, "fail_next": [500]})
    real_now = control.get("clock").json()["now"]
    control.post("clock/advance", json={"seconds": 10_000})

    assert control.post("reset").json() == {"reset": True}

    assert control.get("devices").json()["tuids"] == []
    assert control.get("calls").json()["calls"] == []
    settings = control.get("settings").json()
    assert settings["latency_ms"] == 0 and settings["fail_next"] == []
    assert control.get("clock").json()["now"] < real_now + 100
    assert emulator.state.list_groups() == [{"group_id": "unassigned"}]
    response = httpx.get(emulator.base_url + "groups", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, "tokens are forgotten"


def test_control_validation_and_unknown_routes(control: httpx.Client) -> None:
    assert_error(control.post("clock/advance", json={"seconds": -5}), 400, "Bad Request")
    assert_error(control.post("clock/advance", json={}), 400, "Bad Request")
    assert_error(control.get("nope"), 404, "Not Found")
    assert_error(control.post("settings", content=b"{"), 400, "Bad Request")
    assert_error(control.get("calls", params={"since_id": "x"}), 400, "Bad Request")


def test_settings_round_trip(control: httpx.Client) -> None:
    changed = control.post(
        "settings", json={"rate_limit": 5, "command_allowlist": [1500], "stall_paths": ["/x"]}
    ).json()

    assert changed["rate_limit"] == 5
    assert changed["command_allowlist"] == [1500]
    assert control.get("settings").json() == changed


def test_unknown_top_level_path_is_404(emulator: EmulatorServer) -> None:
    assert_error(httpx.get(emulator.origin + "/elsewhere"), 404, "Not Found")


def test_server_keeps_connections_alive(api: httpx.Client, emulator: EmulatorServer) -> None:
    api.get("groups")
    accepted = emulator._httpd.connections_accepted

    for _ in range(20):
        assert api.get("groups").status_code == 200

    assert emulator._httpd.connections_accepted == accepted


def test_generated_secret_stop_is_idempotent_and_closes_the_port() -> None:
    server = start_emulator(EmulatorConfig())
    assert server.client_id == "fieldhand-sandbox"
    assert len(server.client_secret) >= 20
    assert server.base_url.endswith("/prod/v1/") and server.control_url.endswith("/_emulator/")
    with httpx.Client(base_url=server.control_url) as http:
        assert http.get("stats").status_code == 200

        server.stop()
        server.stop()

        with pytest.raises(httpx.TransportError):
            http.get("stats")
