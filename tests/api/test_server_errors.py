"""Errors answered by the HTTP server itself, and the 405's Allow (issue #13 row 11)."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.server_errors import JsonErrorRequestHandler
from tests.waiting import wait_until

LONG_QUERY = "/api/health?q=" + "a" * 65_536  # the 64 KB query string of the finding


def _get_long(base: str) -> tuple[int, dict[str, Any]]:
    """GET the long address over a plain connection (httpx refuses URLs this long itself)."""
    url = httpx.URL(base)
    connection = http.client.HTTPConnection(url.host, url.port, timeout=30)
    try:
        connection.request("GET", LONG_QUERY)
        response = connection.getresponse()
        body = response.read()
        content_type = response.getheader("Content-Type") or ""
        assert content_type.startswith("application/json"), body[:200]
        return response.status, dict(json.loads(body)["error"])
    finally:
        connection.close()


def test_a_method_the_route_does_not_take_is_a_405_naming_the_ones_it_does(app: Flask) -> None:
    response = app.test_client().open("/api/health", method="TRACE")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "TRACE" not in allowed


@pytest.fixture
def dev_server(app: Flask) -> Iterator[str]:
    """The server `make run` starts (app.run), on a free loopback port."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=JsonErrorRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_development_server_answers_a_too_long_address_in_the_json_shape(
    dev_server: str,
) -> None:
    status, error = _get_long(dev_server)
    assert status == 414
    assert error["code"] == "uri_too_long"
    # The server keeps serving, and a normal request still reaches the app.
    assert httpx.get(dev_server + "/api/health", timeout=30).status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn_server(app_config: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """gunicorn with the Docker image's worker class, serving the test app's configuration."""
    port = _free_port()
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({k: v for k, v in app_config.items() if _jsonable(v)}))
    factory = f"tests.api.test_server_errors:_app_from('{settings}')"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "app.gunicorn_worker.JsonErrorWorker",
            factory,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            return httpx.get(url + "/api/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answering, timeout=60, what="gunicorn answering")
        yield url
    finally:
        process.terminate()
        process.wait(30)
        if process.stderr:
            process.stderr.close()


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def _app_from(settings_file: str) -> Flask:
    from app import create_app

    return create_app(json.loads(Path(settings_file).read_text()))


def test_gunicorn_answers_a_too_long_address_in_the_json_shape(gunicorn_server: str) -> None:
    status, error = _get_long(gunicorn_server)
    assert status == 414
    assert error["code"] == "uri_too_long"
    assert httpx.get(gunicorn_server + "/api/health", timeout=30).status_code == 200
