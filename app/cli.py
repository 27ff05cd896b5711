"""Register the `flask --app app ...` command groups."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
