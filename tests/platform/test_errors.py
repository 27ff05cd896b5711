"""Failures: rate limits, 5xx, timeouts, dropped connections, malformed and odd bodies."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from email.utils import formatdate

import pytest

from app.platform.errors import (
    Conflict,
    MalformedResponse,
    NotFound,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from app.platform.thingsee import ThingseeClient
from tests.platform.harness import Answer, EmulatorControl, ScriptedServer

# ---- against the emulator ------------------------------------------------------------------


def test_429_raises_rate_limited_with_retry_after_and_is_not_retried(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.get_installation_status(tuid)  # token first
    control.clear_calls()
    control.settings(fail_next=[429])
    with pytest.raises(RateLimited) as caught:
        client.get_installation_status(tuid)
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 429
    assert caught.value.message == "Too Many Requests"
    assert len(control.api_calls()) == 1


def test_rate_limit_bucket_surfaces_as_rate_limited(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.get_group(tuid)
    control.settings(rate_limit=1)  # one request per second, burst of one
    client.get_group(tuid)
    with pytest.raises(RateLimited) as caught:
        client.get_group(tuid)
    assert caught.value.retry_after == 1.0


def test_5xx_on_get_is_retried(client: ThingseeClient, control: EmulatorControl) -> None:
    (tuid,) = control.devices(1)
    client.get_group(tuid)
    control.clear_calls()
    control.settings(fail_next=[503, 502])
    assert client.get_group(tuid) == "unassigned"
    assert [c["status"] for c in control.api_calls()] == [503, 502, 200]


def test_5xx_on_get_gives_up_after_max_retries(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.get_group(tuid)
    control.clear_calls()
    control.settings(fail_next=[500, 500, 500, 500])
    with pytest.raises(Unavailable) as caught:
        client.get_group(tuid)
    assert caught.value.status == 500
    assert caught.value.outcome_unknown is False
    assert len(control.api_calls()) == 3  # one try plus max_retries=2


def test_5xx_on_post_is_not_retried_and_outcome_is_unknown(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.get_group(tuid)
    control.clear_calls()
    control.settings(fail_next=[500])
    with pytest.raises(Unavailable) as caught:
        client.set_installation_status(tuid, "installed")
    assert caught.value.outcome_unknown is True
    # The service itself answered: whatever happened is over, nothing can land later.
    assert caught.value.in_flight is False
    assert caught.value.status == 500
    assert len(control.api_calls("POST")) == 1
    assert client.get_installation_status(tuid) == "new"


def test_504_on_post_may_still_be_in_flight(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    control.settings(fail_next=[{"status": 504, "method": "POST", "path": "/installations"}])
    with pytest.raises(Unavailable) as caught:
        client.set_installation_status(tuid, "installed")
    # API Gateway stopped waiting; its integration may still be running the write.
    assert caught.value.outcome_unknown is True
    assert caught.value.in_flight is True


def test_5xx_after_the_write_was_applied(client: ThingseeClient, control: EmulatorControl) -> None:
    """The case verify-then-retry exists for: the write landed but we were told it failed."""
    (tuid,) = control.devices(1)
    client.get_group(tuid)
    control.settings(fail_next_after_apply=[502])
    with pytest.raises(Unavailable) as caught:
        client.set_installation_status(tuid, "installed")
    assert caught.value.outcome_unknown is True
    assert len(control.api_calls("POST")) == 1
    assert client.get_installation_status(tuid) == "installed"


def test_stalled_get_times_out_as_unavailable(
    make_client: Callable[..., ThingseeClient], control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client = make_client(timeout=0.3, max_retries=1)
    client.get_group(tuid)
    control.settings(stall_ms=1000)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        client.get_group(tuid)
    assert time.monotonic() - started < 2.0
    assert caught.value.outcome_unknown is False
    assert caught.value.in_flight is False
    assert "Timeout" in caught.value.message


def test_stalled_post_times_out_with_outcome_unknown(
    make_client: Callable[..., ThingseeClient], control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client = make_client(timeout=0.2)
    client.get_group(tuid)
    control.clear_calls()
    control.settings(stall_ms=600)
    with pytest.raises(Unavailable) as caught:
        client.set_installation_status(tuid, "installed")
    assert caught.value.outcome_unknown is True
    assert caught.value.in_flight is True
    control.settings(stall_ms=0)
    # The platform finishes the write after we gave up: exactly the unknown outcome.
    deadline = time.monotonic() + 3
    while not control.api_calls("POST") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c["status"] for c in control.api_calls("POST")] == [200]
    assert client.get_installation_status(tuid) == "installed"


# ---- connection failures ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_is_unavailable_and_surely_not_applied() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/prod/v1/"
    client = ThingseeClient(url, "id", "secret", timeout=1.0, retry_backoff=0.01)
    with client, pytest.raises(Unavailable) as caught:
        client.set_installation_status("TSPR04EZU31901021", "installed")
    assert caught.value.outcome_unknown is False
    assert client.token_requests() == 1  # the token fetch retried the connect internally


def test_server_gone_after_the_token_is_a_connect_error_not_an_unknown_write(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script("GET", "things/T1/group", Answer(200, {"data": {"group_id": "g"}}))
    assert scripted_client.get_group("T1") == "g"
    scripted.stop()
    with pytest.raises(Unavailable) as caught:
        scripted_client.set_group("T1", "g")
    assert caught.value.outcome_unknown is False


def test_dropped_connection_on_a_write_is_an_unknown_outcome(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script("POST", "things/T1/group", Answer(200, b"", drop=True))
    with pytest.raises(Unavailable) as caught:
        scripted_client.set_group("T1", "g")
    assert caught.value.outcome_unknown is True
    assert caught.value.in_flight is True
    assert len(scripted.requests_to("things/T1/group")) == 1


# ---- bodies the emulator never sends --------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, b"<html>oops</html>", {"Content-Type": "text/html"}),
        Answer(200, b""),
        Answer(200, b'{"data": {"tuid": "T1",}}'),  # the seed's trailing comma
        Answer(200, {"tuid": "T1", "installation_status": "installed"}),  # no "data"
        Answer(200, {"data": ["installed"]}),
        Answer(201, b"\xff\xfe garbage"),
    ],
)
def test_unreadable_2xx_is_malformed(
    scripted: ScriptedServer, scripted_client: ThingseeClient, answer: Answer
) -> None:
    scripted.script("POST", "things/T1/installations", answer)
    with pytest.raises(MalformedResponse) as caught:
        scripted_client.set_installation_status("T1", "installed")
    assert caught.value.outcome_unknown is True
    assert len(scripted.requests_to("things/T1/installations")) == 1


def test_malformed_token_answer(scripted: ScriptedServer, scripted_client: ThingseeClient) -> None:
    scripted.script("POST", "auth/client-token", Answer(200, {"data": {"token": ""}}))
    with pytest.raises(MalformedResponse):
        scripted_client.get_thing("T1")


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            Answer(400, {"statusCode": 400, "error": "Bad Request", "message": "limit is bad"}),
            ValidationFailed,
            "limit is bad",
        ),
        (Answer(422, {"message": "unprocessable thing"}), ValidationFailed, "unprocessable thing"),
        (Answer(400, {"statusCode": 400, "error": "Bad Request"}), ValidationFailed, "Bad Request"),
        (
            Answer(400, "plain words", {"Content-Type": "text/plain"}),
            ValidationFailed,
            "plain words",
        ),
        (Answer(405, b""), ValidationFailed, "HTTP 405"),
        (Answer(404, {"message": "Not Found"}), NotFound, "Not Found"),
        (Answer(409, {"statusCode": 409, "message": "exists"}), Conflict, "exists"),
        (Answer(502, b"<html><body>Bad Gateway</body></html>"), Unavailable, "HTTP 502"),
    ],
)
def test_error_bodies_of_every_shape_give_a_message(
    scripted: ScriptedServer,
    scripted_client: ThingseeClient,
    answer: Answer,
    error: type[Exception],
    message: str,
) -> None:
    scripted.script("GET", "things/T1/messages", answer)
    with pytest.raises(error) as caught:
        scripted_client.get_messages("T1", limit=1)
    assert message in caught.value.message  # type: ignore[attr-defined]
    assert caught.value.status == answer.status  # type: ignore[attr-defined]


def test_retry_after_as_http_date(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    scripted.script("GET", "groups", Answer(429, {"message": "Slow down"}, {"Retry-After": when}))
    with pytest.raises(RateLimited) as caught:
        scripted_client.list_groups()
    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 31
    assert len(scripted.requests_to("groups")) == 1


@pytest.mark.parametrize("header", [{}, {"Retry-After": "soon"}])
def test_missing_or_unreadable_retry_after(
    scripted: ScriptedServer, scripted_client: ThingseeClient, header: dict[str, str]
) -> None:
    scripted.script("GET", "groups", Answer(429, {"message": "Too Many Requests"}, header))
    with pytest.raises(RateLimited) as caught:
        scripted_client.list_groups()
    assert caught.value.retry_after is None


# ---- tolerant reading of documented variations ----------------------------------------------


def test_thing_fields_may_be_strings_or_missing(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script(
        "GET",
        "things/T1",
        Answer(200, {"data": {"location": {"lat": "65.01", "lon": "25.52"}, "timestamp": 1}}),
    )
    scripted.script("GET", "things/T2", Answer(200, {"data": {"version": "unknown-sw-release"}}))
    one = scripted_client.get_thing("T1")
    assert (one.lat, one.lon, one.timestamp, one.battery_level) == (65.01, 25.52, 1, None)
    two = scripted_client.get_thing("T2")
    assert (two.lat, two.lon, two.gateway_tuid, two.version) == (
        None,
        None,
        None,
        "unknown-sw-release",
    )


def test_empty_installation_history(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script("GET", "things/T1/installations", Answer(200, {"data": []}))
    assert scripted_client.get_installations("T1", limit=5) == []
    assert scripted_client.get_installation_status("T1") is None


def test_installation_history_in_the_wrong_order_is_sorted(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    items = [
        {"tuid": "T1", "installation_status": "new", "timestamp": 10},
        {"tuid": "T1", "installation_status": "installed", "timestamp": 20},
    ]
    scripted.script("GET", "things/T1/installations", Answer(200, {"data": items}))
    assert scripted_client.get_installation_status("T1") == "installed"


def test_alert_count_string_and_201_204_answers(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script("GET", "things/alerts/count", Answer(200, {"data": {"alert_count": "207"}}))
    assert scripted_client.alert_count() == 207
    scripted.script("POST", "things/T1/installations", Answer(204))
    assert scripted_client.set_installation_status("T1", "retired").installation_status == (
        "retired"
    )
    scripted.script("POST", "groups", Answer(201, {"data": {"group_id": "g1"}}))
    assert scripted_client.create_group("g1").group_id == "g1"
    scripted.script("DELETE", "groups/g1", Answer(204))
    scripted_client.delete_group("g1")
    scripted.script("GET", "things/alerts/count", Answer(200, {"data": {"alert_count": "many"}}))
    with pytest.raises(MalformedResponse):
        scripted_client.alert_count()


def test_requests_carry_json_headers_and_bodies(
    scripted: ScriptedServer, scripted_client: ThingseeClient
) -> None:
    scripted.script("POST", "things/T1/commands", Answer(200, {"data": {"commands": []}}))
    scripted_client.send_commands("T1", [{"tsmId": 1500, "tsmEv": 30}])
    (seen,) = scripted.requests_to("things/T1/commands")
    assert seen.body == b'[{"tsmId": 1500, "tsmEv": 30}]'
    (token_request,) = scripted.requests_to("auth/client-token")
    assert token_request.authorization is None
    assert b"scripted-secret" in token_request.body
