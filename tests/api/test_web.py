"""Serving the built PWA: the console's own page, cache headers, SPA fallback, missing build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse


def fetch(app: Flask, path: str) -> TestResponse:
    """GET a path and close the file the response streams from (its body stays readable)."""
    response = app.test_client().get(path)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def dist(app_config: dict[str, Any], tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets" / "console").mkdir(parents=True)
    (root / "index.html").write_text("<title>technician</title>")
    (root / "console.html").write_text("<title>console</title>")
    (root / "sw.js").write_text("// sw")
    (root / "assets" / "index-abc.js").write_text("// app")
    (root / "assets" / "console" / "console-abc.js").write_text("// console")
    app_config["PWA_DIST"] = str(root)
    return root


@pytest.mark.parametrize("path", ["/console", "/console/", "/console.html"])
def test_console_paths_serve_the_console_page_revalidated(dist: Path, app: Flask, path: str):
    response = fetch(app, path)
    assert response.status_code == 200
    assert b"<title>console</title>" in response.data
    assert response.headers["Cache-Control"] == "no-cache"


def test_hashed_assets_are_immutable_and_pages_are_revalidated(dist: Path, app: Flask):
    asset = fetch(app, "/assets/console/console-abc.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["Cache-Control"]
    for page in ("/", "/sw.js"):
        assert fetch(app, page).headers["Cache-Control"] == "no-cache"


def test_a_precompressed_copy_goes_to_a_browser_that_accepts_it(dist: Path, app: Flask):
    (dist / "assets" / "index-abc.js.br").write_bytes(b"brotli bytes")
    (dist / "assets" / "index-abc.js.gz").write_bytes(b"gzip bytes")
    (dist / "index.html.gz").write_bytes(b"gzip page")
    client = app.test_client()

    def get(path: str, accept: str | None) -> TestResponse:
        headers = {"Accept-Encoding": accept} if accept is not None else {}
        response = client.get(path, headers=headers)
        response.get_data()
        response.close()
        return response

    brotli = get("/assets/index-abc.js", "gzip, deflate, br")
    assert brotli.data == b"brotli bytes"
    assert brotli.headers["Content-Encoding"] == "br"
    assert brotli.mimetype == "text/javascript"
    assert "immutable" in brotli.headers["Cache-Control"]
    assert "Accept-Encoding" in brotli.headers["Vary"]
    gzip = get("/assets/index-abc.js", "gzip")
    assert (gzip.data, gzip.headers["Content-Encoding"]) == (b"gzip bytes", "gzip")
    plain = get("/assets/index-abc.js", None)
    assert plain.data == b"// app" and "Content-Encoding" not in plain.headers
    # The SPA fallback is the page too; a file with no copy goes as it is.
    page = get("/queue", "br, gzip")
    assert (page.data, page.headers["Content-Encoding"]) == (b"gzip page", "gzip")
    assert page.headers["Cache-Control"] == "no-cache"
    assert get("/sw.js", "br").data == b"// sw"


def test_unknown_paths_fall_back_to_the_technician_app_but_not_under_api(dist: Path, app: Flask):
    assert b"<title>technician</title>" in fetch(app, "/scan/TSPR04ABC").data
    missing = fetch(app, "/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.is_json


def test_a_missing_build_says_how_to_make_it(app: Flask):
    response = fetch(app, "/")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "pwa_not_built"
