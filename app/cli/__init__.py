"""Register the `flask --app app ...` command groups."""

from __future__ import annotations

from flask import Flask

from app.cli.bulk import bulk_cli
from app.cli.labels import labels_cli
from app.cli.sync import sync_cli
from app.cli.users import users_cli


def init_app(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    app.cli.add_command(users_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(labels_cli)
    app.cli.add_command(bulk_cli)
