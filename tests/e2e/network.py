"""A network the test can switch off: a TCP relay between Chromium and the live app.

Playwright's offline emulation covers pages, but a service worker (Background Sync replays the
outbox from there) may still reach the server. Sending the browser through this relay makes
"offline" true for every part of the browser: switched off, it refuses new connections and
cuts the open ones, so each request fails as it would with no signal.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class SwitchableNetwork:
    """Relay 127.0.0.1:<port> to an upstream address; `online` can be switched at any time."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.online = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="e2e-network", daemon=True)
        self._acceptor.start()

    def switch(self, online: bool) -> None:
        """Switch the network on or off; off also cuts every open connection."""
        self.online = online
        if not online:
            self._cut_all()

    def close(self) -> None:
        """Stop relaying and close every socket."""
        self._closed = True
        self._cut_all()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._acceptor.join(timeout=5)

    def _cut_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.online or self._closed:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(target)
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
