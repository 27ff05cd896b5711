"""WSGI entry for the ingest benchmark: the real app plus a bare JSON endpoint beside it."""

from __future__ import annotations

from flask import Response, jsonify, request

from app import create_app
from app.extensions import csrf

app = create_app()


@csrf.exempt
def bare() -> Response:
    """The framework's ceiling: parse a small JSON body, answer a small JSON body."""
    return jsonify({"ok": True, "echo": request.get_json().get("n")})


@csrf.exempt
def bare_batch() -> Response:
    """Parse the same 100-operation batch and answer per item, with no auth, checks or database."""
    items = request.get_json()["operations"]
    return jsonify({"results": [{"op_id": i.get("op_id"), "result": "accepted"} for i in items]})


app.add_url_rule("/bench/bare", view_func=bare, methods=["POST"])
app.add_url_rule("/bench/bare-batch", view_func=bare_batch, methods=["POST"])
