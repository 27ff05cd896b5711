"""Test doubles for the Thingsee client tests: a manual clock, the emulator's control surface,
and a tiny scripted HTTP server (real HTTP on loopback) for answers the emulator never gives."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from emulator.server import EmulatorServer


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class EmulatorControl:
    """The emulator's /_emulator/ control surface over real HTTP."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self._http = httpx.Client(base_url=server.control_url, timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def _json(self, response: httpx.Response) -> Any:
        assert response.is_success, (response.status_code, response.text)
        return response.json() if response.content else None

    def devices(self, count: int = 1, tuids: list[str] | None = None) -> list[str]:
        """Seed devices and return their TUIDs."""
        body: dict[str, Any] = {"tuids": tuids} if tuids else {"count": count}
        data = self._json(self._http.post("devices", json=body))
        if tuids:
            return tuids
        found = _find_tuids(data)
        assert len(found) == count, data
        return found

    def settings(self, **values: Any) -> dict[str, Any]:
        """Change settings (none given: just read them)."""
        if values:
            return self._json(self._http.post("settings", json=values))
        return self._json(self._http.get("settings"))

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward."""
        self._json(self._http.post("clock/advance", json={"seconds": seconds}))

    def calls(self) -> list[dict[str, Any]]:
        """Return the API calls answered so far, oldest first."""
        return self._json(self._http.get("calls"))["calls"]

    def clear_calls(self) -> None:
        self._json(self._http.delete("calls"))

    def api_calls(self, method: str | None = None, path_part: str = "") -> list[dict[str, Any]]:
        """Return calls other than token requests, optionally filtered."""
        return [
            call
            for call in self.calls()
            if "auth/client-token" not in call["path"]
            and (method is None or call["method"] == method)
            and path_part in call["path"]
        ]

    def offline(self, tuid: str) -> None:
        """Silence a device so it raises `heartbeat missed` after the threshold."""
        self._json(self._http.post(f"devices/{tuid}/offline"))

    def token_requests(self) -> int:
        return int(self._json(self._http.get("stats"))["token_requests"])

    def thing(self, tuid: str) -> dict[str, Any]:
        return self._json(self._http.get(f"things/{tuid}"))


def _find_tuids(data: Any) -> list[str]:
    if isinstance(data, dict):
        for key in ("tuids", "devices", "added"):
            if key in data:
                return _find_tuids(data[key])
    if isinstance(data, list):
        return [item if isinstance(item, str) else item["tuid"] for item in data]
    raise AssertionError(f"cannot find TUIDs in {data!r}")


# ---- a scripted loopback server --------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # read the request, then hang up without answering

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None
    body: bytes


class ScriptedServer:
    """Real HTTP on loopback answering from a script: path -> Answer, or a queue of Answers."""

    TOKEN_PATH = "/prod/v1/auth/client-token"

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.seen: list[Seen] = []
        self.tokens_issued = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so stop() really ends the conversation.

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = outer._answer(self.command, self.path, self.headers, body)
                if answer.drop:
                    self.close_connection = True
                    return
                payload = answer.encoded()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/prod/v1/"

    def script(self, method: str, path: str, *answers: Answer) -> None:
        """Answer `method /prod/v1/<path>` with these answers in turn; the last one repeats."""
        with self._lock:
            self.routes[(method, "/prod/v1/" + path)] = list(answers)

    def _answer(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        with self._lock:
            self.seen.append(Seen(method, path, headers.get("Authorization"), body))
            queue = self.routes.get((method, path.split("?")[0]))
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
            if method == "POST" and path == self.TOKEN_PATH:
                self.tokens_issued += 1
                return Answer(200, {"data": {"token": f"scripted-token-{self.tokens_issued}"}})
        return Answer(404, {"statusCode": 404, "error": "Not Found", "message": "no script"})

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.split("?")[0] == "/prod/v1/" + path]

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
