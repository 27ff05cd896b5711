"""gunicorn's sync worker, answering a too-long request line in the app's JSON error shape.

gunicorn refuses a request line over `--limit-request-line` (4094 bytes by default, a bound we
keep) before the app sees it, with an HTML 400. This worker sends the app's JSON 414 instead;
every other server-side refusal stays gunicorn's own.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.sync import SyncWorker

from app.server_errors import error_body


class JsonErrorWorker(SyncWorker):
    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, LimitRequestLine):
            super().handle_error(req, client, addr, exc)
            return
        body = error_body(414)
        head = (
            "HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.log.debug("request line too long from %s: %s", addr, exc)
        with contextlib.suppress(OSError):
            client.sendall(head.encode() + body)
