"""The app for bench/pwa.sh's signed-in audits: the real backend with a technician's day on it.

Starts the emulator and the app (a temporary SQLite database, an in-process sync worker, the
built PWA), creates a technician, a deployment group and six devices, and records four of the
technician's actions (synced by the worker) so the queue screen lists a day's work and the device
screen a history. Prints one JSON line {url, username, password, tuid} and serves until stdin
closes or the process is terminated.

    .venv/bin/python bench/pwa_app.py
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import PWA_DIST  # noqa: E402
from tests.factories import op  # noqa: E402

USER, PASSWORD = "lighthouse", "audit field 2026"
GROUP = "prfi00audit"


def _seed(app: Any, emulator: Any) -> str:
    """Create the technician, the group and the devices; record the day's actions."""
    from app.models.users import User
    from app.platform.provider import current_platform
    from app.services import operations
    from app.services.accounts import create_user
    from app.services.groups import create_group

    tuids = emulator.state.add_devices(count=6)
    with app.app_context():
        user: User = create_user(USER, PASSWORD, "technician", display_name="Lea Lighthouse")
        create_group(current_platform(), GROUP, "Audit site")
        start = datetime.now(UTC) - timedelta(hours=2)
        day = [
            op("install", tuid, at=start, minutes=5 * i, group_id=GROUP)
            for i, tuid in enumerate(tuids[:3])
        ]
        for item in day:
            item["seen"] = {"status": "uninstalled", "group": "unassigned"}
        quarantine = op("quarantine", tuids[1], at=start, minutes=30)
        quarantine["seen"] = {"status": "installed", "group": GROUP}
        operations.ingest([*day, quarantine], user)
    return str(tuids[1])


def _wait_synced(app: Any, timeout: float = 30.0) -> None:
    """Wait until the worker has sent every recorded action (so the screens show them synced)."""
    from sqlalchemy import func, select

    from app.database import db
    from app.models.operations import Operation

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                select(func.count()).select_from(Operation).where(Operation.state != "synced")
            )
            db.session.rollback()
            if not waiting:
                return
            time.sleep(0.2)
    raise SystemExit("the sync worker did not send the seeded actions in time")


def main() -> None:
    """Serve the app with the seeded day until stdin closes."""
    from dataclasses import replace

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import MIGRATIONS_DIR
    from app.sync.worker import SyncWorker
    from emulator.platforms import platform_defaults
    from emulator.server import start_emulator
    from emulator.state import EmulatorConfig
    from tests.platforms import emulator_settings

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory() as tmp:
        config = EmulatorConfig(client_id="audit", client_secret="audit-secret", seed=5)
        emulator = start_emulator(replace(platform_defaults("thingsee", config), rate_limit=0.0))
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'pwa_audit.sqlite3'}",
                "SECRET_KEY": "audit",
                **emulator_settings(emulator),
                "PLATFORM_RATE_LIMIT": 0,
                "SYNC_POLL_S": 0.1,
                "PWA_DIST": str(PWA_DIST),
                "LOGIN_RATE_LIMIT": "1000 per minute",
            }
        )
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR))
        tuid = _seed(app, emulator)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        worker = SyncWorker(app)
        threading.Thread(target=worker.run, daemon=True).start()
        try:
            _wait_synced(app)
            url = f"http://127.0.0.1:{server.server_port}/"
            print(json.dumps({"url": url, "username": USER, "password": PASSWORD, "tuid": tuid}))
            sys.stdout.flush()
            sys.stdin.read()  # until pwa.sh closes our stdin (or terminates us)
        finally:
            worker.stop()
            server.shutdown()
            emulator.stop()


if __name__ == "__main__":
    main()
