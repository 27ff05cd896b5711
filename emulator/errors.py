"""The API's error shapes: the §0 body {"statusCode","error","message"} and AWS-style bodies."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from werkzeug.wrappers import Response

# What API Gateway itself answers with, as opposed to the backend's §0 body.
AWS_STYLE_MESSAGES: dict[int, str] = {
    429: "Too Many Requests",
    502: "Internal server error",
    503: "Service Unavailable",
    504: "Endpoint request timed out",
}


class ApiError(Exception):
    """A request the API refuses; `status` and `message` become the §0 error body."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


def error_body(status: int, message: str) -> dict[str, Any]:
    """Build the §0 error body for a status."""
    return {"statusCode": status, "error": _phrase(status), "message": message}


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise a payload as an application/json response."""
    # Werkzeug would send "401 UNAUTHORIZED"; API Gateway sends the usual "401 Unauthorized".
    return Response(
        json.dumps(payload, separators=(",", ":")),
        status=f"{status} {_phrase(status)}",
        headers=headers,
        mimetype="application/json",
    )


def error_response(error: ApiError) -> Response:
    """Turn an ApiError into its §0 JSON response."""
    return json_response(error_body(error.status, error.message), error.status)


def injected_fault_response(status: int, retry_after: str = "1") -> Response:
    """Answer an injected failure the way the real stack would for that status."""
    if status in AWS_STYLE_MESSAGES:
        headers = {"Retry-After": retry_after} if status == 429 else None
        return json_response({"message": AWS_STYLE_MESSAGES[status]}, status, headers)
    return json_response(error_body(status, f"Injected failure ({_phrase(status)})"), status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
