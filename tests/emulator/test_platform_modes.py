"""The emulator's ThingsMatrix, ThingScale and thingsHub modes over raw HTTP: each platform's
authentication, answer and error shapes, its clock and rate limit, and the shared control."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest

from emulator.platforms import platform_defaults
from emulator.server import EmulatorServer, start_emulator
from emulator.state import EmulatorConfig

SECRET = "s3cret"


@pytest.fixture
def mode(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    """A fresh emulator of the platform named by the test's parameter."""
    platform = str(request.param)
    config = platform_defaults(platform, EmulatorConfig(client_id="u", client_secret=SECRET))
    server = start_emulator(replace(config, devices=3, seed=5), platform=platform)
    yield server
    server.stop()


@pytest.fixture
def http(mode: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mode.base_url, timeout=5.0) as client:
        yield client


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@pytest.mark.parametrize("mode", ["thingsmatrix"], indirect=True)
def test_thingsmatrix_login_codes_and_envelope(mode: EmulatorServer, http: httpx.Client) -> None:
    wrong = http.post("auth/login", json={"loginName": "u", "password": _md5("nope")})
    assert wrong.status_code == 401
    assert wrong.json() == {"code": 14201, "data": None, "msg": "username or password incorrect"}
    login = http.post("auth/login", json={"loginName": "u", "password": _md5(SECRET)}).json()
    assert login["code"] == 0 and login["msg"] == "success"
    token = login["data"]["token"]
    sn = mode.state.tuids()[0]

    detail = http.get(f"devices/{sn}", headers={"Authorization": f"Bearer {token}"}).json()
    assert detail["code"] == 0
    assert {"id", "sn", "onlineStatus", "status", "attributes", "model", "group"} <= set(
        detail["data"]
    )
    assert detail["data"]["model"]["name"] == "TMA01" and detail["data"]["group"] is None

    assert http.get(f"devices/{sn}").json()["code"] == 14103  # no token
    assert http.get(f"devices/{sn}", headers={"Authorization": "Token x"}).json()["code"] == 14102
    mode.state.advance(1800 + 1)  # the assumed 30 minute lifetime
    expired = http.get(f"devices/{sn}", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and expired.json()["code"] == 14101


@pytest.mark.parametrize("mode", ["thingsmatrix"], indirect=True)
def test_thingsmatrix_pages_and_scripted_faults_by_concept(
    mode: EmulatorServer, http: httpx.Client
) -> None:
    token = http.post("auth/login", json={"loginName": "u", "password": _md5(SECRET)}).json()
    headers = {"Authorization": f"Bearer {token['data']['token']}"}
    page = http.post("devices/search?page=1&size=2&sort=sn,asc", json={}, headers=headers).json()
    assert {k: page["data"][k] for k in ("totalElements", "last", "totalPages", "number")} == {
        "totalElements": 3,
        "last": True,
        "totalPages": 2,
        "number": 1,
    }
    bad = http.post("devices/search", content=b"[", headers=headers).json()
    assert bad["code"] == 10014

    sn = mode.state.tuids()[0]
    # A fault scripted for Thingsee's status write hits ThingsMatrix's attribute write.
    fault = {"status": 504, "method": "POST", "path": "/installations"}
    mode.state.update_settings(fail_next_after_apply=[fault])
    answer = http.put(
        f"devices/{sn}/attributes", json={"installationStatus": "installed"}, headers=headers
    )
    assert answer.status_code == 504 and "code" not in answer.json()  # a gateway's answer
    assert mode.state.installation_history(sn)[-1]["installation_status"] == "installed"


@pytest.mark.parametrize("mode", ["thingscale"], indirect=True)
def test_thingscale_token_shapes_and_rate_limit(mode: EmulatorServer, http: httpx.Client) -> None:
    device = mode.state.tuids()[0]
    assert http.get(f"device/{device}").json() == {"error": "AUTH_REQUIRED"}
    headers = {"X-APITOKEN": SECRET}
    answer = http.get(f"device/{device}", headers=headers).json()
    assert isinstance(answer, list) and answer[0]["device_id"] == device
    assert {"enabled", "mapped_ch", "device_type", "activate_at"} <= set(answer[0])
    assert http.get("device/0000000000", headers=headers).json() == {"error": "NO_DEVICE"}
    assert http.post("channel/5", headers=headers).status_code == 201
    assert http.post("channel/5", headers=headers).json() == {"error": "CHANNEL_INUSE"}

    # 60 at once: one after another on a loaded machine they can come slower than the refill.
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda _: http.get("channel", headers=headers), range(60)))
    # 20 requests/s, documented; a refused one is read from the burst itself, as a request
    # sent after it may find the bucket refilled on a slow machine
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited
    assert limited[0].json() == {"error": "TOO_MANY_REQUESTS"} and limited[0].headers["Retry-After"]
    mode.state.advance(2)  # the bucket refills on the emulator's clock

    new_key = httpx.post(mode.control_url + "api-key/rotate").json()["api_key"]
    assert http.get("channel", headers=headers).status_code == 401
    assert http.get("channel", headers={"X-APITOKEN": new_key}).status_code == 200


@pytest.mark.parametrize("mode", ["thingshub"], indirect=True)
def test_thingshub_sessions_and_error_objects(mode: EmulatorServer, http: httpx.Client) -> None:
    bad = http.post("auth/token", json={"username": "u", "password": "nope"})
    assert bad.status_code == 400 and bad.json() == {"code": 400, "error": "invalid credentials"}
    login = http.post("auth/token", json={"username": "u", "password": SECRET}).json()
    assert set(login) == {"User", "expires", "token"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", login["expires"])
    headers = {"Authorization": f"Bearer {login['token']}"}
    eui = mode.state.tuids()[0]
    device = http.get(f"devices/{eui}", headers=headers).json()
    assert device["eui"] == eui and device["tags"] == {}
    patched = http.patch(
        f"devices/{eui}",
        json={"tags": {"installation_status": "installed", "floor": 2}},
        headers=headers,
    ).json()
    assert patched["tags"] == {"installation_status": "installed", "floor": 2}
    refused = http.patch(
        f"devices/{eui}", json={"tags": {"installation_status": "x"}}, headers=headers
    )
    assert refused.status_code == 400 and refused.json()["code"] == 400

    httpx.post(mode.control_url + "sessions/end")
    ended = http.get(f"devices/{eui}", headers=headers)
    assert ended.status_code == 401 and ended.json()["code"] == 401


@pytest.mark.parametrize("mode", ["thingsmatrix", "thingscale", "thingshub"], indirect=True)
def test_control_describes_the_mode_and_checks_queued_errors(mode: EmulatorServer) -> None:
    info = httpx.get(mode.control_url + "platform").json()
    assert info["platform"] == mode.platform and mode.base_url.endswith(info["api_prefix"] + "/")
    bad = httpx.post(mode.control_url + "settings", json={"fail_next_error": "x"})
    assert bad.status_code == 400
    queued = httpx.post(mode.control_url + "settings", json={"fail_next_error": [503]}).json()
    assert queued["fail_next_error"] == [{"error": 503, "path": None}]
    assert httpx.post(mode.control_url + "devices", json={"tuids": ["no!"]}).status_code == 400


def test_cli_serves_a_platform_mode() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--platform", "thingscale", "--port", "0",
         "--devices", "2", "--client-secret", "cli-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(6)]
        found = re.search(r"(http://\S+/v2/)", banner[0])
        assert found, banner
        assert banner[5].split()[-1] == "cli-key"
        answer = httpx.get(found.group(1) + "device", headers={"X-APITOKEN": "cli-key"})
        assert answer.status_code == 200 and len(answer.json()) == 2
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "thingscale emulator stopped" in out
