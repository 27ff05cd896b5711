"""Install verification over the real emulator, on its clock: tests advance it, never sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.database import db
from app.models.verifications import InstallVerification
from app.sync.worker import SyncWorker


class VerifyRig:
    """A technician, a site group, the emulator's clock and a worker run on that clock."""

    def __init__(self, app: Any, emulator: Any, api: Any, run_worker: Callable[..., Any]):
        self.app = app
        self.emulator = emulator
        self.api = api
        self._run_worker = run_worker
        self.calls = 0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.emulator.state.clock.now(), UTC)

    def devices(self, plan: dict[str, float | None], count: int | None = None) -> list[str]:
        """Add devices and unpower them; each powers on after the seconds given (None: never)."""
        tuids = self.emulator.state.add_devices(list(plan))
        self.emulator.state.power_plan(plan)
        return tuids

    def run(self) -> SyncWorker:
        worker = self._run_worker(verify_clock=self.now)
        self.calls += worker.looks
        return worker

    def advance(self, seconds: float) -> SyncWorker:
        self.emulator.state.advance(seconds)
        return self.run()

    def verification(self, tuid: str) -> InstallVerification:
        with self.app.app_context():
            row = db.session.scalar(
                select(InstallVerification)
                .where(InstallVerification.tuid == tuid)
                .order_by(InstallVerification.id.desc())
            )
            assert row is not None, f"no verification for {tuid}"
            db.session.expunge(row)
            return row


@pytest.fixture
def rig(app: Any, emulator: Any, login: Any, run_worker: Any) -> VerifyRig:
    emulator.state.create_group("prfi00site")
    return VerifyRig(app, emulator, login("technician"), run_worker)
