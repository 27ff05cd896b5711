"""Migrations upgrade a database that already holds history, not only an empty one.

SQLite rebuilds a table to alter it (copy, drop, rename): with foreign keys enforced, dropping
`outbox` failed as soon as a sync attempt pointed at one of its steps, so an embedded install
with a synced action could not upgrade (seen from 5c1e7a93d2b4 to 5c1e0d7a9b42).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import Connection, text

from app import create_app
from app.extensions import MIGRATIONS_DIR

INITIAL = "27752e62d0ae"
TUID = "TSPR04EZU31901021"


def _add_a_synced_action(connection: Connection) -> None:
    now = datetime.now(UTC)
    connection.execute(
        text(
            "INSERT INTO users (username, display_name, role, password_hash, created_at, active)"
            " VALUES ('tech', 'Tech', 'technician', 'x', :now, 1)"
        ),
        {"now": now},
    )
    connection.execute(
        text(
            "INSERT INTO operations (op_id, kind, tuid, args, user_id, device_time, received_at,"
            " state, updated_at) VALUES ('00000000-0000-0000-0000-000000000001', 'set_status',"
            " :tuid, '{}', 1, :now, :now, 'synced', :now)"
        ),
        {"now": now, "tuid": TUID},
    )
    connection.execute(
        text(
            "INSERT INTO outbox (operation_id, step_no, tuid, action, value, order_at, state,"
            " available_at, attempts, outcome_uncertain) VALUES (1, 0, :tuid, 'set_status',"
            " 'installed', :now, 'done', :now, 1, 0)"
        ),
        {"now": now, "tuid": TUID},
    )
    connection.execute(
        text(
            "INSERT INTO sync_attempts (step_id, operation_id, attempt_no, worker, started_at,"
            " finished_at, outcome) VALUES (1, 1, 1, 'worker', :now, :now, 'applied')"
        ),
        {"now": now},
    )


@pytest.mark.parametrize("start", [INITIAL, "5c1e7a93d2b4"])
def test_sqlite_with_a_synced_action_upgrades_to_head(tmp_path: Path, start: str) -> None:
    from app.database import db

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}", "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision=start)
        with db.engine.begin() as connection:
            _add_a_synced_action(connection)

        upgrade(directory=str(MIGRATIONS_DIR))

        with db.engine.connect() as connection:
            steps = connection.execute(text("SELECT tuid, state FROM outbox")).all()
            attempts = connection.execute(text("SELECT step_id FROM sync_attempts")).all()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        db.engine.dispose()
    assert steps == [(TUID, "done")]
    assert attempts == [(1,)]
    assert broken == []
    assert enforced == 1, "the app's connections enforce foreign keys again after migrating"
