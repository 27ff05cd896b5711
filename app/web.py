"""Serve the built PWA at / with an SPA fallback; the service worker must never be cached."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Flask, Response, request, send_from_directory
from werkzeug.routing import PathConverter

from app.errors import error_response

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "pwa" / "dist"
# Pages and files that name the current build's assets: always revalidated.
NO_CACHE = {"sw.js", "index.html", "console.html", "manifest.webmanifest"}


# The build writes these beside each text and WebAssembly file (pwa/scripts/precompress.mjs).
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def _send(dist: Path, path: str) -> Response:
    """Send a file of the build, its precompressed copy when the browser accepts one."""
    accepted = request.accept_encodings
    for encoding, suffix in ENCODINGS:
        if accepted[encoding] and (dist / (path + suffix)).is_file():
            mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            response = send_from_directory(dist, path + suffix, mimetype=mimetype)
            response.headers["Content-Encoding"] = encoding
            break
    else:
        response = send_from_directory(dist, path)
    response.vary.add("Accept-Encoding")
    return response


class PwaPath(PathConverter):
    """Any path but the API's: /api/... that no API route matches is a 404, never a 405."""

    regex = r"(?!api/)[^/].*?"


def init_app(app: Flask) -> None:
    """Register the routes that serve the PWA build."""
    dist = Path(app.config.get("PWA_DIST") or DEFAULT_DIST)

    def pwa(path: str = "") -> Response:
        if not (dist / "index.html").exists():
            return error_response(
                503, "pwa_not_built", "The web app is not built; run 'make run' or 'make pwa'."
            )
        if path.rstrip("/") == "console":
            path = "console.html"
        target = dist / path
        if path and target.is_file():
            response = _send(dist, path)
            if path in NO_CACHE:
                response.headers["Cache-Control"] = "no-cache"
            elif path.startswith("assets/"):
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            return response
        response = _send(dist, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    # Plain Flask rules: these routes are not part of the OpenAPI document.
    app.add_url_rule("/", endpoint="pwa_index", view_func=pwa)
    app.url_map.converters["pwa_path"] = PwaPath
    app.add_url_rule("/<pwa_path:path>", endpoint="pwa_asset", view_func=pwa)
