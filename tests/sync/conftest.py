"""Helpers for driving the sync worker against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.sync.worker import SyncWorker, WorkerSettings


@pytest.fixture
def run_worker(app: Flask) -> Callable[..., SyncWorker]:
    """Run a worker in this process until nothing is left to send."""

    def _run(**overrides: Any) -> SyncWorker:
        settings = WorkerSettings.from_config(app.config)
        for key, value in overrides.items():
            setattr(settings, key, value)
        worker = SyncWorker(app, settings)
        worker.run(until_idle=True)
        return worker

    return _run
