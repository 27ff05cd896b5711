"""Fieldhand: the application factory wires extensions, blueprints and commands, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_openapi3 import Info, OpenAPI

from app import cli, errors, extensions, security_headers
from app.config import apply_settings, load_settings


def create_app(config: Mapping[str, Any] | None = None) -> OpenAPI:
    """Create and configure the Fieldhand Flask application."""
    settings = load_settings(config)
    app = OpenAPI(
        __name__,
        instance_relative_config=True,
        info=Info(title="Fieldhand API", version="1.0"),
        doc_prefix="/api/docs",
        doc_ui=False,
        validation_error_status=422,
        validation_error_callback=errors.validation_error_response,
    )
    apply_settings(app, settings)
    errors.init_app(app)
    security_headers.init_app(app)
    extensions.init_app(app)

    from app import api, web

    api.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
