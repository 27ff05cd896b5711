"""Workers beside a test: `flask sync run` as its own process, or a worker thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from app.sync.worker import SyncWorker, WorkerSettings

ROOT = Path(__file__).resolve().parents[2]


def start_sync_run(
    app_config: dict[str, Any], emulator: Any, **settings: str
) -> subprocess.Popen[bytes]:
    """Start a worker process with concurrency 4; `settings` are FIELDHAND_* without the prefix."""
    env = dict(
        os.environ,
        FIELDHAND_DATABASE_URL=app_config["DATABASE_URL"],
        FIELDHAND_SECRET_KEY="test-secret",
        FIELDHAND_PLATFORM_URL=emulator.base_url,
        FIELDHAND_PLATFORM_CLIENT_ID=emulator.client_id,
        FIELDHAND_PLATFORM_CLIENT_SECRET=emulator.client_secret,
        FIELDHAND_SYNC_POLL_S="0.05",
        **{f"FIELDHAND_{key}": value for key, value in settings.items()},
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "sync", "run", "--concurrency", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def start_worker_thread(app: Any, **overrides: Any) -> tuple[SyncWorker, threading.Thread]:
    """Run a worker until idle in a thread; `overrides` change its WorkerSettings."""
    settings = WorkerSettings.from_config(app.config)
    for key, value in overrides.items():
        setattr(settings, key, value)
    worker = SyncWorker(app, settings)
    thread = threading.Thread(target=worker.run, kwargs={"until_idle": True})
    thread.start()
    return worker, thread
