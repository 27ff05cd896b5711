"""The JSON API under /api: one module per resource, registered here."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import OpenAPI

from app.api import (
    access,
    auth,
    bulk,
    devices,
    groups,
    health,
    history,
    inbox,
    labels,
    operations,
    overview,
    platform,
    queue_health,
    users,
    verifications,
)


def init_app(app: OpenAPI) -> None:
    """Register every API blueprint and the OpenAPI document route."""
    access.init_app(app)
    queue_health.init_app(app)
    modules = (
        health,
        auth,
        users,
        operations,
        devices,
        groups,
        history,
        inbox,
        bulk,
        labels,
        platform,
        verifications,
        queue_health,
        overview,
    )
    for module in modules:
        app.register_api(module.bp)

    def openapi_document() -> Response:
        return jsonify(app.api_doc)

    app.add_url_rule("/api/openapi.json", endpoint="openapi_document", view_func=openapi_document)
