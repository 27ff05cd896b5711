"""Hostile input gets a specific 4xx in the one error shape, never a 500 (issue #13, rows 3-7).

Each test reproduces a row of the issue's table: deeply nested and oversized JSON, dates outside
the calendar, integers past the database's range, thousands of repeated parameters, a text field
where a file belongs, NUL characters.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.factories import op

TUID = "TSPR04EZU31901021"
DEEP = "[" * 5000 + "]" * 5000


def _assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(True)[:300])
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    if code is not None:
        assert error["code"] == code
    return error


def _json_operations(app: Flask) -> list[tuple[str, str]]:
    """Every (method, path) whose request body is JSON, with path parameters filled in."""
    with app.test_client() as client:
        document = client.get("/api/openapi.json").json
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return found


# --- row 3: JSON depth and size ----------------------------------------------------------------


def test_deep_json_is_400_on_every_json_endpoint(app: Flask, login: Any) -> None:
    api = login("admin")
    operations = _json_operations(app)
    assert ("POST", "/api/operations") in operations and len(operations) >= 8
    for method, path in operations:
        response = api.client.open(
            path,
            method=method,
            data=DEEP,
            content_type="application/json",
            headers={"X-CSRFToken": api.csrf_token or ""},
        )
        error = _assert_error(response, 400, "json_too_deep")
        assert error["details"] == {"limit": 32}, path


def test_deep_json_is_400_at_anonymous_login(app: Flask) -> None:
    response = app.test_client().post("/api/auth/login", data=DEEP, content_type="application/json")
    assert "levels deep" in _assert_error(response, 400, "json_too_deep")["message"]


def test_depth_just_under_the_limit_is_read(login: Any) -> None:
    api = login("technician")
    nested: Any = "x"
    for _ in range(28):  # body, operations, item, args and 28 lists: 32 levels
        nested = [nested]
    item = op("set_status", TUID, status="installed")
    item["args"]["note"] = nested
    response = api.post("/api/operations", json={"operations": [item]})
    assert response.status_code == 200


def test_json_body_limit_is_its_own_setting(app_config: dict[str, Any], login: Any) -> None:
    api = login("technician")
    padding = "x" * (5 * 1024 * 1024)  # the 5 MB body, under the 20 MB upload limit
    body = {"operations": [op("set_status", TUID, status="installed", note=padding)]}
    error = _assert_error(api.post("/api/operations", json=body), 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": 4 * 1024 * 1024}
    assert error["message"] == "The JSON body is too large; the limit is 4 MB."


def test_json_body_limit_follows_the_setting(app: Flask, login: Any) -> None:
    app.config["JSON_MAX_BYTES"] = 2048
    api = login("technician")
    small = {"operations": [op("set_status", TUID, status="installed")]}
    assert api.post("/api/operations", json=small).status_code == 200
    big = {"operations": [op("set_status", TUID, status="installed", note="x" * 4000)]}
    error = _assert_error(api.post("/api/operations", json=big), 413, "payload_too_large")
    assert error["message"] == "The JSON body is too large; the limit is 2 KB."


def test_chunked_json_past_the_limit_is_413(app: Flask, login: Any) -> None:
    app.config["JSON_MAX_BYTES"] = 2048
    api = login("technician")
    body = b'{"operations": ["' + b"x" * 5000 + b'"]}'
    response = api.client.post(
        "/api/operations",
        input_stream=io.BytesIO(body),
        headers={
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "X-CSRFToken": api.csrf_token or "",
        },
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn says of a chunked body
    )
    _assert_error(response, 413, "payload_too_large")


# --- row 4: dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device_time", "says"),
    [
        ("0001-01-01T00:00:00+14:00", "outside the calendar"),
        ("9999-12-31T23:59:59-14:00", "outside the calendar"),
        ("2014-12-31T23:59:59+00:00", "before 2015: the phone's clock may be wrong"),
        ("9999-12-31T00:00:00+00:00", "more than a day ahead"),
    ],
)
def test_out_of_range_device_time_rejects_only_that_item(
    login: Any, device_time: str, says: str
) -> None:
    api = login("technician")
    good = op("set_status", TUID, status="installed")
    bad = op("set_status", "TSEN01ABC12345678", status="installed")
    bad["device_time"] = device_time
    response = api.post("/api/operations", json={"operations": [bad, good]})
    assert response.status_code == 200
    rejected, accepted = response.json["results"]
    assert rejected["result"] == "rejected" and rejected["op_id"] == bad["op_id"]
    assert rejected["error"]["code"] == "invalid_operation"
    assert says in rejected["error"]["message"]
    assert rejected["error"]["message"].startswith("device_time: ")
    assert accepted["result"] == "accepted"


def test_device_time_up_to_a_day_ahead_is_accepted(login: Any) -> None:
    api = login("technician")
    ahead = op("set_status", TUID, at=datetime.now(UTC) + timedelta(hours=23), status="installed")
    old = op("set_status", TUID, at=datetime(2015, 1, 1, 0, 1, tzinfo=UTC), status="installed")
    response = api.post("/api/operations", json={"operations": [ahead, old]})
    assert [r["result"] for r in response.json["results"]] == ["accepted", "accepted"]


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "from=0001-01-01",
        "from=0001-01-01T00:00:00%2B14:00",
        "to=9999-12-31T23:59:59-14:00",
    ],
)
def test_history_dates_outside_the_range_are_422(login: Any, query: str) -> None:
    api = login("supervisor")
    error = _assert_error(api.get(f"/api/history?{query}"), 422, "validation_failed")
    assert error["details"]["fields"][0]["field"] in {"from", "to"}
    assert api.get(f"/api/inbox?{query}").status_code == 422
    assert api.get(f"/api/history.csv?{query}").status_code == 422


def test_history_dates_inside_the_range_are_read(login: Any) -> None:
    api = login("supervisor")
    assert api.get("/api/history?from=2000-01-01&to=2099-12-31").status_code == 200


def test_operations_since_outside_the_calendar_is_422(login: Any) -> None:
    api = login("technician")
    response = api.get("/api/operations?mine=true&since=0001-01-01T00:00:00%2B14:00")
    error = _assert_error(response, 422, "validation_failed")
    assert error["details"]["fields"][0]["field"] == "since"


def test_a_cursor_holding_an_impossible_time_is_422(login: Any) -> None:
    import base64
    import json

    api = login("supervisor")
    data = {"s": "device_time:d", "v": ["0001-01-01T00:00:00+14:00", 2**40], "b": False}
    token = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    response = api.get(f"/api/history?sort=device_time,desc&cursor={token}")
    _assert_error(response, 422, "unprocessable")


# --- rows 5 and 6: huge integers, repeated parameters -------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/bulk/9223372036854775808",
        "/api/bulk/2147483648",
        "/api/bulk/9223372036854775808/items",
        "/api/bulk/99999999999999999999999999/results.csv",
    ],
)
def test_ids_past_the_database_range_are_404(login: Any, url: str) -> None:
    _assert_error(login("supervisor").get(url), 404, "not_found")


def test_largest_id_is_an_ordinary_404(login: Any) -> None:
    _assert_error(login("supervisor").get("/api/bulk/2147483647"), 404, "not_found")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/history?bulk_job_id={2**70}", "bulk_job_id"),
        (f"/api/history?bulk_job_id={2**31}", "bulk_job_id"),
        (f"/api/history?page={10**30}", "page"),
        (f"/api/inbox?page={10**30}", "page"),
        (f"/api/bulk?page={2**63}", "page"),
        (f"/api/bulk/1/items?page={2**63}", "page"),
    ],
)
def test_huge_integers_in_queries_are_422(login: Any, url: str, field: str) -> None:
    error = _assert_error(login("supervisor").get(url), 422, "validation_failed")
    assert error["details"]["fields"][0]["field"] == field


def test_huge_expected_count_is_422(login: Any) -> None:
    api = login("supervisor")
    response = api.post("/api/bulk/1/confirm", json={"expected_count": 2**70})
    _assert_error(response, 422, "validation_failed")


def test_thousands_of_sort_parameters_are_400(login: Any) -> None:
    api = login("supervisor")
    response = api.get("/api/history?" + "&".join(["sort=tuid,asc"] * 2000))
    error = _assert_error(response, 400, "too_many_parameters")
    assert error["details"] == {"limit": 100}


def test_one_sort_value_naming_a_field_thousands_of_times_is_read(login: Any) -> None:
    api = login("supervisor")
    response = api.get("/api/history?sort=" + ",".join(["tuid"] * 2000) + ",asc")
    assert response.status_code == 200


# --- row 7 and NUL characters ------------------------------------------------------------------


def test_text_field_instead_of_a_csv_file_is_422(login: Any) -> None:
    api = login("supervisor")
    response = api.post(
        "/api/bulk/preview/upload",
        data={"file": "str", "action": "retire"},
        content_type="multipart/form-data",
    )
    error = _assert_error(response, 422, "validation_failed")
    assert error["details"]["fields"][0]["field"] == "file"
    assert "must be a file" in error["message"]


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("post", "/api/operations", {"json": {"operations": [op("x\x00", TUID)]}}),
        ("get", "/api/history?tuid=a%00b", {}),
        ("get", "/api/history/devices/TS%00X", {}),
        ("post", "/api/groups", {"json": {"group_id": "site\x00"}}),
    ],
)
def test_nul_characters_are_400(login: Any, method: str, url: str, kwargs: Any) -> None:
    api = login("admin")
    response = getattr(api, method)(url, **kwargs)
    assert "NUL character" in _assert_error(response, 400, "nul_character")["message"]


def test_nul_in_a_form_field_is_400(login: Any) -> None:
    api = login("supervisor")
    response = api.post(
        "/api/bulk/preview/upload",
        data={"file": (io.BytesIO(b"tuid\n"), "a.csv"), "action": "retire\x00"},
        content_type="multipart/form-data",
    )
    _assert_error(response, 400, "nul_character")


def test_a_form_part_without_a_name_is_400(login: Any) -> None:
    api = login("supervisor")
    body = (
        b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nretire\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        b"tuid\r\n--XyZ--\r\n"
    )
    response = api.post(
        "/api/bulk/preview/upload", data=body, content_type="multipart/form-data; boundary=XyZ"
    )
    assert "has no name" in _assert_error(response, 400, "bad_form")["message"]


@pytest.mark.parametrize(
    ("upload", "status", "code"),
    [
        ((io.BytesIO(b"tuid\nTSPR04EZU31901021"), "a\x00.csv"), 400, "nul_character"),
        ((io.BytesIO(b"tuid\nTSPR04\x00EZU31901021"), "a.csv"), 422, "unprocessable"),
    ],
)
def test_nul_in_an_uploaded_csv_or_its_name_is_refused(
    login: Any, upload: Any, status: int, code: str
) -> None:
    api = login("supervisor")
    response = api.post(
        "/api/bulk/preview/upload",
        data={"file": upload, "action": "retire"},
        content_type="multipart/form-data",
    )
    assert "NUL" in _assert_error(response, status, code)["message"]
