"""A small threaded WSGI server on the standard library that keeps connections alive.

Werkzeug's development server answers every request with `Connection: close`, so a client at
concurrency 32 opens a new TCP connection (and leaves a TIME_WAIT socket) for every request.
This server reads each request body in full before running the app, which is what makes
HTTP/1.1 keep-alive safe on top of http.server.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

MAX_REQUEST_LINE = 65536
MAX_BODY = 10 * 1024 * 1024
# The app sets CONNECTION_CONTROL["drop"] to have the connection closed without an answer.
CONNECTION_CONTROL = "emulator.connection"


class _ResponseWriter(ServerHandler):
    """wsgiref's response writer, speaking HTTP/1.1 so clients keep the connection."""

    http_version = "1.1"
    request_handler: BaseHTTPRequestHandler


class KeepAliveWSGIHandler(WSGIRequestHandler):
    """Serve many requests per connection, writing each response in one send."""

    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 75
    # Small JSON responses must not wait for Nagle + delayed ACK on loopback.
    disable_nagle_algorithm = True
    server: ThreadingWSGIServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def handle(self) -> None:
        # wsgiref's handler serves one request per connection; http.server's loop serves many.
        BaseHTTPRequestHandler.handle(self)

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        try:
            body = self._read_body()
        except ValueError as exc:
            self.send_error(400, str(exc))
            self.close_connection = True
            return
        environ = self.get_environ()
        environ["CONTENT_LENGTH"] = str(len(body))
        control: dict[str, bool] = {}
        environ[CONNECTION_CONTROL] = control  # wsgiref copies environ, not this dict
        out = io.BytesIO()
        handler = _ResponseWriter(io.BytesIO(body), out, sys.stderr, environ, multithread=True)
        handler.request_handler = self
        app = self.server.get_app()
        assert app is not None
        handler.run(app)
        if control.get("drop"):
            # An outage: the client sees its connection closed with no answer at all.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.wfile.write(out.getvalue())
            self.wfile.flush()
        except OSError:
            # The client gave up (a timeout test, or stop()); nothing is left to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the emulator's call log records every API request."""

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # Skip trailers up to the blank line that ends the message.
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline(16)  # the CRLF after each chunk
            if len(body) > MAX_BODY:
                raise ValueError("body too large")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One daemon thread per connection; knows its open connections so stop can close them."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops connects when 32 clients start at once.
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: WSGIApplication) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._connections: set[socket.socket] = set()
        self.connections_accepted = 0
        self._connections_lock = threading.Lock()
        super().__init__(address, KeepAliveWSGIHandler)
        self.set_app(app)

    def track(self, connection: socket.socket) -> None:
        """Remember an open client connection."""
        with self._connections_lock:
            self._connections.add(connection)
            self.connections_accepted += 1

    def untrack(self, connection: socket.socket) -> None:
        """Forget a closed client connection."""
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open client connection so idle keep-alive threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # The client may already have gone away.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
