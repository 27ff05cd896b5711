"""The SQLite database holds password hashes: readable by its owner only (issue #13 row 12)."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _open_app(path: Path) -> None:
    from app import create_app
    from app.database import db

    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x"})
    with app.app_context():
        with db.engine.begin() as connection:  # WAL mode: writes make the -wal and -shm files
            connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        for suffix in ("-wal", "-shm"):
            assert _mode(Path(f"{path}{suffix}")) == 0o600, suffix
        db.engine.dispose()


def test_a_new_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "fieldhand.sqlite3"
    _open_app(path)
    assert _mode(path) == 0o600


def test_an_existing_readable_sqlite_file_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    path.touch()
    path.chmod(0o644)
    _open_app(path)
    assert _mode(path) == 0o600
