"""The OpenAPI document at /api/openapi.json: what flask-openapi3 derives, plus what it cannot.

flask-openapi3 documents parameters, bodies and the responses a view declares. This module adds,
in one place, what follows from how every request is handled rather than from one view:
- the cookie session (and the remember cookie) and the CSRF header as security schemes, and on
  each operation whether it needs them (the view's `require_roles`);
- the errors every operation of a kind can answer, all in the one `{"error": ...}` shape:
  400 (unreadable JSON, too deep, too many parameters, NUL characters, CSRF), 401 and 403 (by
  the view's roles), 404 (a path parameter naming nothing), 413 (a body past its limit) and 422
  (validation). Errors only some views answer (409, 429, 503) they declare themselves.
- a 200 for each view that declares no success response of its own.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask
from flask_openapi3 import OpenAPI

from app.api.access import ANY_ROLE
from app.api.schemas import ErrorBody

ERROR_SCHEMA = ErrorBody.__name__
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}

SECURITY_SCHEMES: dict[str, Any] = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "Flask's signed session cookie, set by POST /api/auth/login.",
    },
    "remember": {
        "type": "apiKey",
        "in": "cookie",
        "name": "remember_token",
        "description": "The long-lived cookie that restores a session after it ends.",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": "`csrf_token` from login or GET /api/auth/me; needed on every write.",
    },
}

_DESCRIPTIONS = {
    "200": "OK",
    "400": "Unreadable request: bad or too deeply nested JSON (bad_json, json_too_deep), too "
    "many query parameters (too_many_parameters), a NUL character (nul_character), or a missing "
    "or stale CSRF token on a write (csrf_failed)",
    "401": "Not signed in, or the session ended (unauthenticated)",
    "403": "Signed in, but the role may not do this (forbidden)",
    "404": "Nothing by that id (not_found)",
    "409": "The thing is not in a state that allows this (conflict)",
    "413": "The body is past its limit: JSON_MAX_BYTES for JSON, UPLOAD_MAX_BYTES for uploads "
    "(payload_too_large)",
    "422": "A field is missing, of the wrong type or out of range (validation_failed, or a "
    "more specific code)",
    "429": "Too many attempts; wait as Retry-After says (rate_limited)",
    "503": "A dependency (the platform, the decoder) cannot answer now; try again later",
}

_WRITE_METHODS = {"post", "put", "patch", "delete"}
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _view_roles(app: Flask) -> dict[tuple[str, str], tuple[str, ...] | None]:
    """(OpenAPI path, method) -> the roles the view requires, None for an anonymous view."""
    roles = {}
    for rule in app.url_map.iter_rules():
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in rule.methods or ():
            roles[(path, method.lower())] = getattr(view, "allowed_roles", None)
    return roles


def _error_response(status: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def _errors_of(path: str, method: str, operation: dict[str, Any], roles: Any) -> set[str]:
    statuses = {"400", "422"}
    if roles is not None:
        statuses.add("401")
        if set(roles) != set(ANY_ROLE):
            statuses.add("403")
    if "{" in path:
        statuses.add("404")
    if "requestBody" in operation:
        statuses.add("413")
    if roles is not None and method in _WRITE_METHODS:
        statuses.add("400")  # csrf_failed
    return statuses


def complete_document(app: Flask, document: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of flask-openapi3's document with security and every error response."""
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = error_schema
    schemas.pop("ValidationErrorModel", None)  # flask-openapi3's 422 shape, which we never send
    roles = _view_roles(app)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            view_roles = roles.get((path, method))
            responses = operation.setdefault("responses", {})
            declared_errors = {s for s in responses if s[0] in "45"}
            for status in declared_errors | _errors_of(path, method, operation, view_roles):
                responses[status] = _error_response(status)
            if not any(s.startswith("2") for s in responses):
                responses["200"] = {"description": "OK"}
            if view_roles is None:
                operation["security"] = []
            elif method in _WRITE_METHODS:
                operation["security"] = [
                    {"session": [], "csrf": []},
                    {"remember": [], "csrf": []},
                ]
            else:
                operation["security"] = [{"session": []}, {"remember": []}]
    return document


def init_app(app: OpenAPI) -> None:
    """Serve the completed document at /api/openapi.json."""
    from flask import jsonify

    def openapi_document() -> Any:
        completed = app.extensions.get("openapi_document")
        if completed is None:
            completed = app.extensions["openapi_document"] = complete_document(app, app.api_doc)
        return jsonify(completed)

    app.add_url_rule("/api/openapi.json", endpoint="openapi_document", view_func=openapi_document)
