"""The sync worker loop: one thread owns the database, a pool of threads talks to the platform.

Keeping every database write on the loop thread means one connection per worker process and
short transactions; platform calls (the slow part) overlap up to `concurrency`. Claims keep the
pool fed with about two steps per thread so a finished call is replaced without waiting for the
next poll; outcomes are committed in batches.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from app.database import db, utcnow
from app.models.operations import STEP_LEASED, STEP_PENDING, OutboxStep
from app.platform.interface import Platform
from app.platform.provider import build_platform
from app.sync.outbox import OutcomeRecorder, claim_steps
from app.sync.step_runner import StepOutcome, run_step

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.04
IO_SWITCH_INTERVAL_S = 0.001


@dataclass
class WorkerSettings:
    concurrency: int = 16
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    max_attempts: int = 0

    @classmethod
    def from_config(cls, config: dict[str, object]) -> WorkerSettings:
        """Read the SYNC_* settings."""
        return cls(
            concurrency=int(config["SYNC_CONCURRENCY"]),  # type: ignore[call-overload]
            lease_seconds=float(config["SYNC_LEASE_S"]),  # type: ignore[arg-type]
            poll_seconds=float(config["SYNC_POLL_S"]),  # type: ignore[arg-type]
            backoff_base=float(config["SYNC_BACKOFF_BASE_S"]),  # type: ignore[arg-type]
            backoff_cap=float(config["SYNC_BACKOFF_CAP_S"]),  # type: ignore[arg-type]
            max_attempts=int(config["SYNC_MAX_ATTEMPTS"]),  # type: ignore[call-overload]
        )


class SyncWorker:
    """Drain the outbox until stopped."""

    def __init__(
        self,
        app: Flask,
        settings: WorkerSettings | None = None,
        platform: Platform | None = None,
        name: str | None = None,
    ) -> None:
        self.app = app
        self.settings = settings or WorkerSettings.from_config(app.config)
        self.platform = platform or build_platform(app.config)
        self._owns_platform = platform is None
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.recorder = OutcomeRecorder(
            worker=self.name,
            backoff_base=self.settings.backoff_base,
            backoff_cap=self.settings.backoff_cap,
            max_attempts=self.settings.max_attempts,
        )
        self.stop_event = threading.Event()
        self.paused_until = 0.0  # after a 429, claim nothing new until Retry-After has passed
        self.completed = 0

    def stop(self) -> None:
        """Ask the loop to finish the calls in flight and return."""
        self.stop_event.set()

    def run(self, *, until_idle: bool = False) -> int:
        """Run the loop; with until_idle, return once nothing is claimable or in flight."""
        concurrency = self.settings.concurrency
        pool = ThreadPoolExecutor(concurrency, thread_name_prefix="sync")
        in_flight: set[Future[StepOutcome]] = set()
        finished: list[StepOutcome] = []
        last_flush = time.monotonic()
        try:
            with self.app.app_context():
                while True:
                    if not self.stop_event.is_set() and time.monotonic() >= self.paused_until:
                        room = concurrency * 2 - len(in_flight)
                        if room >= concurrency or not in_flight:
                            for step in claim_steps(
                                db.session(), self.name, room, utcnow(), self.settings.lease_seconds
                            ):
                                in_flight.add(pool.submit(run_step, self.platform, step))
                    if not in_flight and not finished:
                        if self.stop_event.is_set() or (until_idle and not self._has_waiting()):
                            break
                        self.stop_event.wait(self._idle_wait())
                        continue
                    if in_flight:
                        done, in_flight = wait(
                            in_flight,
                            timeout=self.settings.poll_seconds,
                            return_when=FIRST_COMPLETED,
                        )
                        finished.extend(f.result() for f in done)
                    # Commit in batches: each transaction has a fixed cost on the loop thread.
                    due = time.monotonic() - last_flush >= FLUSH_INTERVAL_S
                    if finished and (due or len(finished) >= concurrency // 2 or not in_flight):
                        self._record(finished)
                        finished = []
                        last_flush = time.monotonic()
        finally:
            pool.shutdown(wait=True)
            if self._owns_platform:
                self.platform.close()
        return self.completed

    def _idle_wait(self) -> float:
        pause = self.paused_until - time.monotonic()
        return max(0.01, min(self.settings.poll_seconds, pause if pause > 0 else 1e9))

    def _has_waiting(self) -> bool:
        """Whether any step is still pending (maybe in backoff) or leased."""
        found = db.session.scalar(
            select(OutboxStep.id).where(OutboxStep.state.in_((STEP_PENDING, STEP_LEASED))).limit(1)
        )
        db.session.rollback()
        return found is not None

    def _record(self, outcomes: list[StepOutcome]) -> None:
        if not outcomes:
            return
        for outcome in outcomes:
            if outcome.rate_limited:
                wait_s = outcome.retry_after if outcome.retry_after is not None else 1.0
                self.paused_until = max(self.paused_until, time.monotonic() + wait_s)
        self.recorder.record(db.session(), outcomes, utcnow())
        self.completed += sum(1 for o in outcomes if o.kind in ("applied", "already_applied"))


def favour_io_threads() -> None:
    """Hand the GIL over more often than the 5 ms default.

    The loop thread's database work would otherwise keep a finished platform call waiting for
    the interpreter for up to one switch interval, which adds directly to every call's latency.
    """
    sys.setswitchinterval(IO_SWITCH_INTERVAL_S)


def start_in_thread(app: Flask) -> tuple[SyncWorker, threading.Thread]:
    """Run a worker in a daemon thread of this process (the embedded single-machine setup)."""
    favour_io_threads()
    worker = SyncWorker(app)
    thread = threading.Thread(target=worker.run, name="fieldhand-sync", daemon=True)
    thread.start()
    log.info("sync worker %s started in-process", worker.name)
    return worker, thread
