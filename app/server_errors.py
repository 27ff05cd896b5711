"""The app's error shape for what an HTTP server refuses before the app runs.

A request line longer than the server reads (say a 64 KB query string) is answered by the server
itself, as an HTML page that neither the PWA nor an API client can read. The development server
of `make run` (JsonErrorRequestHandler) and the gunicorn worker of the Docker image
(app.gunicorn_worker) answer it with the same JSON body as every other error.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from werkzeug.serving import WSGIRequestHandler

URI_TOO_LONG_MESSAGE = (
    "The request's address (path and query) is too long; narrow the request with fewer or "
    "shorter parameters."
)
_CODES = {400: "bad_request", 414: "uri_too_long", 431: "headers_too_large"}


def error_body(status: int, message: str | None = None) -> bytes:
    """Return the JSON error body for a status the server answers on its own."""
    if message is None:
        message = URI_TOO_LONG_MESSAGE if status == 414 else _phrase(status)
    code = _CODES.get(status, "http_error")
    return json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "The server could not read the request."


class JsonErrorRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, answering the server's own errors in the JSON shape."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.log_error("code %d, message %s", code, message)
        body = error_body(code, None if code == 414 else message)
        self.send_response(code, _phrase(code))
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD":
            self.wfile.write(body)
