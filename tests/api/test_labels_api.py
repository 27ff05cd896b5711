"""/api/labels: parse label text, decode photos, print sheets; roles and error shapes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from app.api.labels import decode_slots
from tests.labels.photos import encode, png_header_only, scene

LABEL = {
    "tuid": "TSPR04EZU31901021",
    "imc": "TSPR04",
    "psn": "EZU31901021",
    "device_type": "PRESENCE",
    "format": "legacy",
}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the one error shape with this status and code; return the error for more checks."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


# ---- parse -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["technician", "supervisor", "admin"])
def test_any_role_parses_label_text(login: Any, role: str) -> None:
    response = login(role).post("/api/labels/parse", json={"text": " ezu31901021,TSPR04 \n"})
    assert response.status_code == 200
    assert response.json == LABEL


def test_text_that_is_not_a_label_is_422_with_a_message(login: Any) -> None:
    response = login().post("/api/labels/parse", json={"text": "NANO-TAG-12"})
    error = assert_error(response, 422, "not_a_device_label")
    assert "17-character ID" in error["message"]
    assert error["details"] == {"reason": "customer_label"}


def test_overlong_text_fails_validation(login: Any) -> None:
    response = login().post("/api/labels/parse", json={"text": "A" * 2001})
    assert_error(response, 422, "validation_failed")


def test_signed_out_callers_are_refused(app: Flask) -> None:
    client = app.test_client()  # no session: refused as signed out, before the CSRF check says why
    assert_error(client.post("/api/labels/parse", json={"text": "x"}), 401, "unauthenticated")


def test_signed_out_callers_get_401_past_csrf(app_config: dict[str, Any], app: Flask) -> None:
    assert app_config["WTF_CSRF_ENABLED"] is False
    client = app.test_client()
    for url, kwargs in (
        ("/api/labels/parse", {"json": {"text": "x"}}),
        ("/api/labels/sheet", {"json": {"tuids": ["TSPR04EZU31901021"]}}),
        ("/api/labels/decode", {"data": {}, "content_type": "multipart/form-data"}),
    ):
        assert_error(client.post(url, **kwargs), 401, "unauthenticated")


@pytest.fixture
def app_config(app_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """Turn CSRF off only for the test that checks the 401s behind it."""
    if request.node.name == "test_signed_out_callers_get_401_past_csrf":
        app_config["WTF_CSRF_ENABLED"] = False
    return app_config


# ---- decode ----------------------------------------------------------------------------------


def _upload(api: Any, data: bytes, name: str = "label.jpg") -> Any:
    return api.post(
        "/api/labels/decode",
        data={"image": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_photo_of_a_label_decodes(login: Any) -> None:
    response = _upload(login(), encode(scene(["EZU31901021,TSPR04"], angle=20)))
    assert response.status_code == 200
    assert response.json["codes"] == [{"text": "EZU31901021,TSPR04", "label": LABEL, "error": None}]
    assert isinstance(response.json["elapsed_ms"], int)


def test_photo_of_another_code_is_422_with_what_it_holds(login: Any) -> None:
    wifi = "WIFI:S:guest;T:WPA;P:x;;"
    error = assert_error(
        _upload(login("supervisor"), encode(scene([wifi]))), 422, "not_a_device_label"
    )
    assert error["message"].startswith("This QR code is not a Thingsee device label.")
    assert error["details"]["reason"] == "not_a_device_label"
    [code] = error["details"]["codes"]
    assert code == {
        "text": wifi,
        "truncated": False,
        "reason": "not_a_device_label",
        "message": error["message"],
    }


def test_photo_is_read_by_the_platform_label_rule(app: Flask, login: Any) -> None:
    app.config["PLATFORM"] = "thingshub"  # read per request; decoding calls no platform
    api = login()
    lorawan = "LW:D0:70B3D57ED0000000:70B3D57ED0041D8A:AABB1122"
    response = _upload(api, encode(scene([lorawan])))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["codes"][0]["label"]["tuid"] == "70B3D57ED0041D8A"
    error = assert_error(
        _upload(api, encode(scene(["EZU31901021,TSPR04"]))), 422, "not_a_device_label"
    )
    assert "DevEUI" in error["message"]


def test_a_long_non_label_code_is_shown_truncated(login: Any) -> None:
    link = "https://example.com/" + "a/" * 150  # 320 characters, no device ID in it
    error = assert_error(_upload(login(), encode(scene([link]))), 422, "not_a_device_label")
    assert "web link" in error["message"]
    [code] = error["details"]["codes"]
    assert code["text"] == link[:200] and code["truncated"] is True


def test_photo_without_codes_is_an_empty_list(login: Any) -> None:
    from PIL import Image

    response = _upload(login(), encode(Image.new("L", (400, 300), 90)))
    assert response.status_code == 200
    assert response.json["codes"] == []


def test_missing_image_is_400(login: Any) -> None:
    api = login()
    response = api.post("/api/labels/decode", data={}, content_type="multipart/form-data")
    assert_error(response, 400, "no_image")


def test_text_field_instead_of_a_file_is_422(login: Any) -> None:
    response = login().post(
        "/api/labels/decode", data={"image": "str"}, content_type="multipart/form-data"
    )
    error = assert_error(response, 422, "validation_failed")
    [field] = error["details"]["fields"]
    assert field["field"] == "image"
    assert "must be a file" in field["message"]


def test_photo_that_would_take_too_much_memory_is_refused_before_decoding(login: Any) -> None:
    # 7000x7000 16-bit RGBA, under the pixel limit: 196 MB once decoded
    data = png_header_only(7000, 7000, colour_type=6, depth=16)
    error = assert_error(_upload(login(), data, "huge.png"), 400, "bad_image")
    assert error["details"]["decoded_bytes"] == 7000 * 7000 * 4
    assert error["details"]["max_decoded_bytes"] == 64 * 1024 * 1024
    assert "MB to open" in error["message"]


def test_decoded_size_limit_is_a_setting(app: Flask, login: Any) -> None:
    app.config["LABEL_DECODE_MAX_BYTES"] = 1_000_000
    response = _upload(login(), encode(scene(["EZU31901021,TSPR04"], size=(1200, 900)), "PNG"))
    assert assert_error(response, 400, "bad_image")["details"]["max_decoded_bytes"] == 1_000_000


def test_busy_decoder_is_503_with_retry_after(app: Flask, login: Any) -> None:
    app.config.update(LABEL_DECODE_SLOTS=1, LABEL_DECODE_WAIT_S=0)
    api = login()
    photo = encode(scene(["EZU31901021,TSPR04"]))
    with decode_slots(app).held():  # another request is decoding
        response = _upload(api, photo)
        error = assert_error(response, 503, "decoder_busy")
        assert response.headers["Retry-After"] == "2"
        assert error["details"] == {"retry_after_s": 2}
    assert _upload(api, photo).status_code == 200  # the slot is free again


def test_file_that_is_not_a_photo_is_400(login: Any) -> None:
    error = assert_error(_upload(login(), b"%PDF-1.4 not a photo", "label.pdf"), 400, "bad_image")
    assert "PDF files are not supported" in error["message"]


def test_upload_over_the_limit_is_a_json_413(app: Flask, login: Any) -> None:
    limit = 200_000
    app.config["MAX_CONTENT_LENGTH"] = limit  # UPLOAD_MAX_BYTES, read on every request
    api = login()
    response = _upload(api, b"\xff\xd8\xff" + b"\x00" * (limit + 10))
    error = assert_error(response, 413, "payload_too_large")
    assert error["details"] == {"limit_bytes": limit}


# ---- sheet -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_get_a_pdf(login: Any, role: str) -> None:
    response = login(role).post(
        "/api/labels/sheet", json={"tuids": ["TSPR04EZU31901021", "xxxx00x1o73360355"]}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"%PDF-")


def test_technicians_may_not_print_sheets(login: Any) -> None:
    response = login("technician").post("/api/labels/sheet", json={"tuids": ["TSPR04EZU31901021"]})
    assert_error(response, 403, "forbidden")


def test_sheet_lists_the_bad_tuids(login: Any) -> None:
    response = login("supervisor").post(
        "/api/labels/sheet", json={"tuids": ["TSPR04EZU31901021", "TSPR04", "NANO-TAG-1"]}
    )
    error = assert_error(response, 422, "invalid_tuids")
    assert [line["line"] for line in error["details"]["lines"]] == [2, 3]


def test_sheet_size_limits_are_validated(login: Any) -> None:
    api = login("admin")
    assert_error(api.post("/api/labels/sheet", json={"tuids": []}), 422, "validation_failed")
    many = {"tuids": ["TSPR04EZU31901021"] * 1001}
    assert_error(api.post("/api/labels/sheet", json=many), 422, "validation_failed")


def test_labels_endpoints_are_in_the_openapi_document(app: Flask) -> None:
    paths = app.test_client().get("/api/openapi.json").json["paths"]
    assert {"/api/labels/parse", "/api/labels/decode", "/api/labels/sheet"} <= set(paths)
