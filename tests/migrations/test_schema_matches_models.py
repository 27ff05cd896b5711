"""The migrations and the models describe one schema: one head, and nothing autogenerate would add.

Two branches that each add a migration on the same parent both land cleanly in git and leave
Alembic with two heads (`upgrade head` then refuses to run); a model changed without its
migration works in tests that create tables from the models and fails on a real upgrade.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app import create_app
from app.extensions import MIGRATIONS_DIR


def test_the_migrations_have_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several heads {heads}: make one migration follow the other"


def _dialect_only(difference: Any, dialect: str) -> bool:
    """Differences that are deliberate and belong to one database."""
    if isinstance(difference, list):  # column changes come as a list of one
        return all(_dialect_only(d, dialect) for d in difference)
    kind = difference[0]
    if dialect == "postgresql" and kind == "remove_index":
        # Trigram indexes for TUID substrings: PostgreSQL's, created by their migration only.
        return str(difference[1].name).endswith("_trgm")
    # SQLite ignores VARCHAR lengths and stores FLOAT and DOUBLE alike; the widening of TUID
    # columns to 32 characters is a PostgreSQL migration.
    return dialect == "sqlite" and kind == "modify_type"


def test_the_migrated_database_matches_the_models(migrated_database: str) -> None:
    from app.database import db

    app = create_app({"DATABASE_URL": migrated_database, "SECRET_KEY": "test"})
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, db.metadata)
            dialect = connection.dialect.name
        db.engine.dispose()
    unexplained = [d for d in differences if not _dialect_only(d, dialect)]
    assert unexplained == [], "models and migrations differ: add a migration"
