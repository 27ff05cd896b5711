"""Latency, random faults, scripted failures, rate limiting, stalls and read lag."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from emulator.server import EmulatorServer

from .conftest import assert_error, fetch_token

INSTALLED = {"installation_status": "installed"}


def test_random_faults_use_500_502_504_and_apply_nothing(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.update_settings(fail_rate=1.0)

    responses = [api.post(f"things/{tuid}/installations", json=INSTALLED) for _ in range(30)]

    assert {r.status_code for r in responses} == {500, 502, 504}
    for response in responses:
        if response.status_code == 500:
            assert_error(response, 500, "Internal Server Error")
        else:
            # API Gateway's own answers are AWS-style bodies, not the §0 shape.
            assert set(response.json()) == {"message"}
    assert len(emulator.state.installation_history(tuid)) == 1
    assert {
        c.fault for c in emulator.state.call_log if c.method == "POST" and "inst" in c.path
    } == {"random"}


def test_fail_rate_is_a_share(api: httpx.Client, emulator: EmulatorServer) -> None:
    emulator.state.update_settings(fail_rate=0.3)

    statuses = [api.get("groups").status_code for _ in range(200)]

    assert 20 <= sum(s >= 500 for s in statuses) <= 100


def test_fail_next_answers_the_next_requests_in_order(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    control.post("settings", json={"fail_next": [503, 500]})

    first = api.post(f"things/{tuid}/installations", json=INSTALLED)
    second = api.get(f"things/{tuid}")
    third = api.post(f"things/{tuid}/installations", json=INSTALLED)

    assert first.status_code == 503
    assert first.json() == {"message": "Service Unavailable"}
    assert_error(second, 500, "Internal Server Error")
    assert third.status_code == 200
    assert len(emulator.state.installation_history(tuid)) == 2, "only the third was applied"
    assert control.get("settings").json()["fail_next"] == []


def test_fail_next_can_target_a_method_and_path(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.update_settings(
        fail_next=[{"status": 502, "method": "POST", "path": "/installations"}]
    )

    assert api.get(f"things/{tuid}/installations").status_code == 200
    assert api.post(f"things/{tuid}/group", json={"group_id": "unassigned"}).status_code == 200
    assert api.post(f"things/{tuid}/installations", json=INSTALLED).status_code == 502
    assert api.post(f"things/{tuid}/installations", json=INSTALLED).status_code == 200


def test_fail_next_after_apply_applies_the_write_then_fails(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.update_settings(fail_next_after_apply=[504])

    response = api.post(f"things/{tuid}/installations", json=INSTALLED)

    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}
    history = emulator.state.installation_history(tuid)
    assert [r["installation_status"] for r in history] == ["new", "installed"]
    assert emulator.state.call_log[-1].fault == "fail_next_after_apply"


def test_fail_next_also_covers_token_requests(emulator: EmulatorServer) -> None:
    emulator.state.update_settings(fail_next=[500])

    failed = httpx.post(
        emulator.base_url + "auth/client-token",
        json={"client_id": emulator.client_id, "client_secret": emulator.client_secret},
    )

    assert failed.status_code == 500
    assert fetch_token(emulator)


def test_auth_is_checked_before_scripted_faults(
    anon: httpx.Client, emulator: EmulatorServer
) -> None:
    emulator.state.update_settings(fail_next=[500])

    assert anon.get("groups").status_code == 401
    assert emulator.state.settings_snapshot()["fail_next"] == [500]


@pytest.mark.parametrize(
    "settings",
    [
        {"fail_next": [200]},
        {"fail_next": "500"},
        {"fail_next": [{"status": 500, "when": "now"}]},
        {"fail_rate": 2},
        {"latency_ms": -1},
        {"auth_failure_status": 500},
        {"strict_group_naming": "yes"},
        {"command_allowlist": ["1500"]},
        {"client_secret": "new"},
    ],
)
def test_bad_settings_are_400(control: httpx.Client, settings: dict[str, object]) -> None:
    assert_error(control.post("settings", json=settings), 400, "Bad Request")


def test_rate_limit_answers_429_with_retry_after(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    emulator.state.update_settings(rate_limit=2)

    statuses = [api.get("groups") for _ in range(4)]

    assert [r.status_code for r in statuses[:2]] == [200, 200]
    limited = statuses[2]
    assert limited.status_code == 429
    assert limited.json() == {"message": "Too Many Requests"}
    assert int(limited.headers["Retry-After"]) >= 1
    # The buckets refill on the emulator's clock: moving it on is as good as waiting.
    emulator.state.advance(0.6)
    assert api.get("groups").status_code == 200


def test_rate_limit_buckets_are_per_credential(emulator: EmulatorServer, token: str) -> None:
    emulator.state.update_settings(rate_limit=1)
    credentials = {"client_id": emulator.client_id, "client_secret": emulator.client_secret}
    with httpx.Client(base_url=emulator.base_url) as http:
        authed = http.get("groups", headers={"Authorization": f"Bearer {token}"})
        anonymous = http.get("groups")
        # Token requests count against the client id they name.
        token_request = http.post("auth/client-token", json=credentials)

    assert authed.status_code == 200
    assert anonymous.status_code == 401
    assert token_request.status_code == 429


def test_latency_delays_api_requests_but_not_control(
    api: httpx.Client, control: httpx.Client, emulator: EmulatorServer
) -> None:
    emulator.state.update_settings(latency_ms=150, jitter_ms=50)

    started = time.perf_counter()
    api.get("groups")
    api_elapsed = time.perf_counter() - started
    started = time.perf_counter()
    control.get("stats")
    control_elapsed = time.perf_counter() - started

    assert 0.15 <= api_elapsed < 1.0
    assert control_elapsed < 0.1


def test_concurrent_requests_overlap_their_latency(emulator: EmulatorServer, token: str) -> None:
    # One second each: one after another they would take 10 s; side by side about 1 s, and
    # half the serial time leaves room for a loaded machine to start ten clients.
    emulator.state.update_settings(latency_ms=1000)
    headers = {"Authorization": f"Bearer {token}"}
    statuses: list[int] = []

    def call() -> None:
        with httpx.Client(base_url=emulator.base_url, headers=headers) as http:
            statuses.append(http.get("groups").status_code)

    threads = [threading.Thread(target=call) for _ in range(10)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 10
    assert time.perf_counter() - started < 5.0, "ten 1 s requests ran side by side"


def test_stall_lets_clients_time_out_on_chosen_paths(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.update_settings(stall_ms=400, stall_paths=["/installations"])

    assert api.get(f"things/{tuid}", timeout=0.2).status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        api.post(f"things/{tuid}/installations", json=INSTALLED, timeout=0.2)

    # The stalled write still lands after the client gave up: an unknown outcome.
    deadline = time.monotonic() + 2
    while len(emulator.state.installation_history(tuid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [r["installation_status"] for r in emulator.state.installation_history(tuid)] == [
        "new",
        "installed",
    ]


def test_read_lag_hides_fresh_writes_for_a_while(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.update_settings(read_lag_s=5)
    emulator.state.create_group("prfi00site")

    api.post(f"things/{tuid}/installations", json=INSTALLED)
    api.post(f"things/{tuid}/group", json={"group_id": "prfi00site"})

    status = api.get(f"things/{tuid}/installations", params={"limit": 1}).json()["data"][0]
    assert status["installation_status"] == "new"
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "unassigned"
    emulator.state.advance(6)
    status = api.get(f"things/{tuid}/installations", params={"limit": 1}).json()["data"][0]
    assert status["installation_status"] == "installed"
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "prfi00site"
