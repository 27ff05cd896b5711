"""The JSON API under /api: one module per resource, registered here."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from app.api import (
    access,
    admin_settings,
    auth,
    bulk,
    devices,
    groups,
    health,
    history,
    inbox,
    labels,
    openapi,
    operations,
    overview,
    platform,
    queue_health,
    requests,
    users,
    verifications,
)


def init_app(app: OpenAPI) -> None:
    """Register every API blueprint and the OpenAPI document route."""
    requests.init_app(app)
    access.init_app(app)
    queue_health.init_app(app)
    modules = (
        health,
        auth,
        users,
        admin_settings,
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
    openapi.init_app(app)
