"""WSGI entry for the ingest benchmark: the real app plus bare JSON endpoints beside it."""

from __future__ import annotations

from flask import Response, jsonify, request

from app import create_app
from app.api.access import require_roles
from app.extensions import csrf
from app.services.operation_rules import plan_steps
from app.services.operations import OperationIn

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


@require_roles()
def signed_in_validated() -> Response:
    """What ingest does before the database: session user, CSRF, per-item validation and plan.

    Its distance from bare_batch is the cost no database work can win back.
    """
    results = []
    for item in request.get_json()["operations"]:
        parsed = OperationIn.model_validate(item)
        plan_steps(parsed.kind, parsed.tuid, parsed.args)
        results.append({"op_id": str(parsed.op_id), "result": "accepted"})
    return jsonify({"results": results})


app.add_url_rule("/bench/bare", view_func=bare, methods=["POST"])
app.add_url_rule("/bench/bare-batch", view_func=bare_batch, methods=["POST"])
app.add_url_rule("/bench/signed-in-validated", view_func=signed_in_validated, methods=["POST"])
