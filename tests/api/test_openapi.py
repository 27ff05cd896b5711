"""/api/openapi.json is a valid OpenAPI 3 document that tells the truth (issue #13, row 10).

The fuzzing run that holds the app to it is tests/api/test_fuzzing.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    validate(document)  # raises on any violation of the OpenAPI 3 schema


def test_cookie_session_and_csrf_header_are_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": schemes["session"]["description"],
    }
    assert schemes["remember"]["in"] == "cookie" and schemes["remember"]["name"] == "remember_token"
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRFToken"
    operations = _operations(document)
    assert operations[("POST", "/api/auth/login")]["security"] == []
    assert operations[("GET", "/api/history")]["security"] == [{"session": []}, {"remember": []}]
    assert {"session": [], "csrf": []} in operations[("POST", "/api/operations")]["security"]


def test_every_error_response_is_the_error_shape(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["ErrorBody"]
    assert schema["required"] == ["error"]
    assert "ValidationErrorModel" not in document["components"]["schemas"]
    for key, operation in _operations(document).items():
        responses = operation["responses"]
        assert {"400", "422"} <= set(responses), key
        assert any(status.startswith("2") for status in responses), key
        for status, response in responses.items():
            if status[0] in "45":
                assert response["content"]["application/json"]["schema"] == ERROR_REF, key


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("POST", "/api/auth/login", {"200", "400", "401", "413", "422", "429"}),
        ("POST", "/api/auth/logout", {"204", "400", "401", "422"}),
        ("POST", "/api/operations", {"200", "400", "401", "409", "413", "422"}),
        ("GET", "/api/history", {"200", "400", "401", "403", "422"}),
        ("GET", "/api/bulk/{job_id}", {"200", "400", "401", "403", "404", "422"}),
        (
            "POST",
            "/api/bulk/{job_id}/confirm",
            {"200", "400", "401", "403", "404", "409", "413", "422"},
        ),
        ("POST", "/api/bulk/preview", {"202", "400", "401", "403", "404", "413", "422", "503"}),
        ("POST", "/api/groups", {"201", "400", "401", "403", "409", "413", "422", "503"}),
        ("POST", "/api/labels/decode", {"200", "400", "401", "413", "422", "503"}),
    ],
)
def test_operations_document_their_real_statuses(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    assert set(_operations(document)[(method, path)]["responses"]) == statuses


def test_path_ids_are_bounded_in_the_document(document: dict[str, Any]) -> None:
    [job_id] = _operations(document)[("GET", "/api/bulk/{job_id}")]["parameters"]
    assert job_id["schema"]["maximum"] == 2**31 - 1  # INTEGER id columns
    page = next(
        p
        for p in _operations(document)[("GET", "/api/history")]["parameters"]
        if p["name"] == "page"
    )
    assert page["schema"]["maximum"] == 1_000_000
