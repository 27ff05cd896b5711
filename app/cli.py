"""Register the `flask --app app ...` command groups."""

from __future__ import annotations

from flask import Flask

from app.accounts_cli import users_cli
from app.bulk_cli import bulk_cli
from app.labels.cli import labels_cli
from app.sync.cli import sync_cli


def init_app(app: Flask) -> None:
    """Attach every command group to the app's CLI."""
    app.cli.add_command(users_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(labels_cli)
    app.cli.add_command(bulk_cli)
