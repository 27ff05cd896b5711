"""WSGI entry for the ingest benchmark: the real app plus a bare JSON endpoint beside it."""

from __future__ import annotations

from flask import Response, jsonify, request

from app import create_app
from app.extensions import csrf

app = create_app()


@csrf.exempt
def bare() -> Response:
    """Parse the same batch and answer a result per item, with no auth, validation or database."""
    items = request.get_json()["operations"]
    return jsonify({"results": [{"op_id": i.get("op_id"), "result": "accepted"} for i in items]})


app.add_url_rule("/bench/bare", view_func=bare, methods=["POST"])
