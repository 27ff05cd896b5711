"""Domain errors and the one JSON error shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.sansio.response import Response as WerkzeugResponse


class DomainError(Exception):
    """A failure the caller can understand and act on; carries its HTTP status and code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(DomainError):
    status = 503
    code = "unavailable"


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    """Build the project's JSON error response."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def unauthenticated_response() -> Response:
    """Return the 401 the PWA reads as 'sign in again, your queue is kept'."""
    return error_response(
        401,
        "unauthenticated",
        "You are not signed in, or your session has expired. Sign in again; "
        "actions waiting on this device are kept.",
    )


def validation_error_response(exc: ValidationError) -> Response:
    """Turn a pydantic validation failure into a 400 (bad JSON) or 422 (bad fields)."""
    has_body = request.mimetype == "application/json" and request.content_length
    if has_body and request.get_json(silent=True) is None:
        return error_response(400, "bad_json", "The request body is not valid JSON.")
    fields = [
        {
            "field": ".".join(str(part) for part in err["loc"]),
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    first = fields[0] if fields else {"field": "", "message": "invalid"}
    where = f" ({first['field']})" if first["field"] else ""
    return error_response(
        422,
        "validation_failed",
        f"The request is not valid{where}: {first['message']}.",
        {"fields": fields},
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def init_app(app: Flask) -> None:
    """Register handlers that turn every failure into the JSON error shape."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        if not current_user.is_authenticated:
            # Every checked endpoint needs a sign-in: say what the caller must do first.
            return unauthenticated_response()
        return error_response(
            400,
            "csrf_failed",
            "The security token is missing or expired; reload the page or sign in again.",
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | WerkzeugResponse:
        if exc.response is not None:
            return exc.response  # already shaped, e.g. by validation_error_response
        status = exc.code or 500
        if status == 413:
            limit = request.max_content_length  # the JSON limit while a JSON body was read
            what = "JSON body" if request.is_json else "upload"
            message = f"The {what} is too large."
            if limit:
                size = f"{limit // 1024} KB" if limit < 1024 * 1024 else f"{limit // 2**20} MB"
                message = f"The {what} is too large; the limit is {size}."
            return error_response(413, "payload_too_large", message, {"limit_bytes": limit})
        code = _HTTP_CODES.get(status, "http_error")
        response = error_response(status, code, exc.description or exc.name)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # required with a 405
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on the server.")
