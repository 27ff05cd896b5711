"""The sync worker loop: one thread owns the database, a pool of threads talks to the platform.

Keeping every database write on the loop thread means one connection per worker process and
short transactions; platform calls (the slow part) overlap up to `concurrency`. Claims keep the
pool fed with about two jobs per thread (steps to write, devices to read back) so a finished
call is replaced without waiting for the next poll; outcomes are committed in batches.

The loop never ends because of a transient error: a database error (deadlock, serialization
failure, lost connection, a restarted server) rolls the turn back and tries again after a short,
growing pause; the outcomes it was recording stay in memory and are recorded on the next turn
(their writes are guarded by the lease, so recording twice is harmless). Platform errors are
outcomes, never exceptions, and a platform-wide outage opens the breaker (app.sync.breaker).
It returns only when stopped (a signal) or, with `until_idle`, when nothing is left to do.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.database import db, is_transient_error, utcnow
from app.models.operations import UNFINISHED_STEP_STATES, OutboxStep
from app.platform import errors
from app.platform.http import inflight_bound
from app.platform.interface import Platform
from app.platform.provider import build_platform
from app.sync.backoff import Backoff
from app.sync.breaker import Breaker
from app.sync.checks import checks_waiting, claim_checks, release_outage_waits
from app.sync.outbox import claim_steps
from app.sync.overwritten import (
    NotedOutcome,
    record_overwritten,
    run_step_noting_overwritten,
    steps_to_note,
)
from app.sync.pacing import GovernedPlatform, RateGovernor
from app.sync.readback import CheckOutcome, run_check
from app.sync.reconcile import CheckRecorder
from app.sync.recorder import OutcomeRecorder
from app.sync.step_runner import StepOutcome, run_step
from app.verification.claims import claim_looks, looks_due
from app.verification.look import LookOutcome, run_look
from app.verification.recorder import LookRecorder
from app.verification.schedule import InstallWatcher
from app.verification.watch import WatchPolicy

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.1
IO_SWITCH_INTERVAL_S = 0.001
# Pauses after a failed turn (database trouble): short first, never long.
TROUBLE_PAUSE_S = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0)
GIVE_UP_OUTCOMES_AFTER = 3
PROBE = "probe"


@dataclass
class WorkerSettings:
    concurrency: int = 16
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    max_attempts: int = 0
    inflight_bound: float = 29.0
    # Install verification's clock: tests and bench/verify.py pass the emulator's.
    verify_clock: Callable[[], datetime] = field(default=utcnow)
    verify_window_s: float = 1800.0
    verify_poll_s: float = 300.0
    verify_gateway_window_s: float = 21600.0

    @classmethod
    def from_config(cls, config: dict[str, object]) -> WorkerSettings:
        """Read the SYNC_* settings and the platform's in-flight bound."""
        return cls(
            concurrency=int(config["SYNC_CONCURRENCY"]),  # type: ignore[call-overload]
            lease_seconds=float(config["SYNC_LEASE_S"]),  # type: ignore[arg-type]
            poll_seconds=float(config["SYNC_POLL_S"]),  # type: ignore[arg-type]
            backoff_base=float(config["SYNC_BACKOFF_BASE_S"]),  # type: ignore[arg-type]
            backoff_cap=float(config["SYNC_BACKOFF_CAP_S"]),  # type: ignore[arg-type]
            max_attempts=int(config["SYNC_MAX_ATTEMPTS"]),  # type: ignore[call-overload]
            inflight_bound=inflight_bound(config),
            verify_window_s=float(config["VERIFY_WINDOW_S"]),  # type: ignore[arg-type]
            verify_poll_s=float(config["VERIFY_POLL_S"]),  # type: ignore[arg-type]
            verify_gateway_window_s=float(config["VERIFY_GATEWAY_WINDOW_S"]),  # type: ignore[arg-type]
        )


class SyncWorker:
    """Drain the outbox and settle read-backs until stopped."""

    def __init__(
        self,
        app: Flask,
        settings: WorkerSettings | None = None,
        platform: Platform | None = None,
        name: str | None = None,
    ) -> None:
        self.app = app
        self.settings = settings or WorkerSettings.from_config(app.config)
        self._raw_platform = platform or build_platform(app.config)
        self._owns_platform = platform is None
        self.governor = RateGovernor()
        self.platform: Any = GovernedPlatform(self._raw_platform, self.governor)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        settings = self.settings
        backoff = Backoff(settings.backoff_base, settings.backoff_cap)
        self.recorder = OutcomeRecorder(
            worker=self.name,
            backoff=backoff,
            inflight_bound=settings.inflight_bound,
            max_attempts=settings.max_attempts,
        )
        self.watch_policy = WatchPolicy(
            window_s=settings.verify_window_s,
            poll_s=settings.verify_poll_s,
            gateway_window_s=settings.verify_gateway_window_s,
            available=bool(self._raw_platform.capabilities.last_seen),
        )
        self.watcher = InstallWatcher(self.watch_policy, settings.verify_clock)
        self.check_recorder = CheckRecorder(
            inflight_bound=settings.inflight_bound, backoff=backoff, on_synced=self.watcher.watch
        )
        self.look_recorder = LookRecorder(backoff=backoff)
        self.breaker = Breaker()
        self.stop_event = threading.Event()
        self.completed = 0  # steps done
        self.read_backs = 0  # read-backs settled
        self.looks = 0  # verification looks recorded (platform calls they cost)
        self.troubles = 0  # turns that failed (database errors) and were survived
        self._running: dict[Future[Any], str] = {}
        self._steps: list[StepOutcome] = []
        self._checks: list[CheckOutcome] = []
        self._looks: list[LookOutcome] = []
        self._overwritten: dict[int, str] = {}  # step id -> the platform's value before its write
        self._release_waits = False
        self._last_flush = 0.0

    def stop(self) -> None:
        """Ask the loop to finish the calls in flight and return."""
        self.stop_event.set()

    def run(self, *, until_idle: bool = False) -> int:
        """Run the loop; with until_idle, return once nothing is claimable, owed or in flight."""
        pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="sync")
        trouble = 0
        finished = False
        try:
            with self.app.app_context():
                while True:
                    try:
                        if self._turn(pool, until_idle):
                            break
                        trouble = 0
                    except Exception as exc:  # never die of it: pause, then try again
                        trouble += 1
                        self._recover(exc, trouble)
            finished = True
        finally:
            pool.shutdown(wait=True)
            if self._owns_platform and finished:
                self._raw_platform.close()
        return self.completed

    def _turn(self, pool: ThreadPoolExecutor, until_idle: bool) -> bool:
        """One pass of the loop; return True when the worker is done."""
        stopping = self.stop_event.is_set()
        if not stopping:
            if not self.breaker.is_open:
                self._claim(pool)
            elif self.breaker.probe_due():
                self.breaker.probe_started()
                probe = pool.submit(_probe, self.platform, self.breaker.last_failed)
                self._running[probe] = PROBE
        if not self._running and not self._steps and not self._checks and not self._looks:
            if self._release_waits:
                self._flush()
                return False
            if stopping or (until_idle and not self._has_waiting()):
                return True
            self.stop_event.wait(self.settings.poll_seconds)
            return False
        if self._running:
            done, _ = wait(
                list(self._running), timeout=self.settings.poll_seconds, return_when=FIRST_COMPLETED
            )
            for future in done:
                self._collect(self._running.pop(future), future.result())
        # Commit in batches: each transaction has a fixed cost on the loop thread.
        due = time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S
        pending = len(self._steps) + len(self._checks) + len(self._looks)
        if pending and (due or pending >= self.settings.concurrency or not self._running):
            self._flush()
        return False

    def _claim(self, pool: ThreadPoolExecutor) -> None:
        concurrency = self.settings.concurrency
        room = concurrency * 2 - len(self._running)
        if room < concurrency and self._running:
            return
        session = db.session()
        now = utcnow()
        lease = self.settings.lease_seconds
        # Read-backs first, up to half the room: they decide `synced` and must not starve
        # behind a backlog of other devices' steps.
        checks = claim_checks(session, self.name, room // 2, now, lease, commit=False)
        # Steps next, leaving a quarter for verification looks; the looks then take whatever
        # room the steps left (all of it when no technician's action waits). Looks run on a
        # clock of minutes, so a backlog of them never holds a technician's actions back by
        # more than that quarter, and a burst of them is not throttled when nothing else waits.
        share = (room + 3) // 4
        steps = claim_steps(
            session,
            self.name,
            room - len(checks) - share,
            now,
            lease,
            inflight_bound=self.settings.inflight_bound,
            commit=False,
        )
        looks = claim_looks(
            session,
            self.name,
            room - len(checks) - len(steps),
            self.settings.verify_clock(),
            lease,
            self.watch_policy,
        )
        # Steps whose phone did not see the value they overwrite read it first (for undo).
        noting = steps_to_note(session, steps)
        session.commit()
        for check in checks:
            self._running[pool.submit(run_check, self.platform, check)] = "check"
        for step in steps:
            run = run_step_noting_overwritten if step.id in noting else run_step
            self._running[pool.submit(run, self.platform, step)] = "step"
        for look in looks:
            self._running[pool.submit(run_look, self.platform, look)] = "look"

    def _collect(self, kind: str, result: Any) -> None:
        if kind == PROBE:
            if result:
                self._release_waits |= self.breaker.probe_answered()
            else:
                self.breaker.probe_failed()
            return
        if kind == "step":
            if isinstance(result, NotedOutcome):
                if result.overwrote is not None and result.outcome.kind == "applied":
                    self._overwritten[result.outcome.step.id] = result.overwrote
                result = result.outcome
            self._steps.append(result)
            tuid = result.step.tuid
        elif kind == "look":
            self._looks.append(result)
            tuid = result.look.tuid
        else:
            self._checks.append(result)
            tuid = result.check.tuid
        if result.platform_down:
            self.breaker.failed(tuid)
        elif result.platform_answered or result.retry_kind == "rate_limited":
            self._release_waits |= self.breaker.answered()

    def _flush(self) -> None:
        session = db.session()
        now = utcnow()
        self.recorder.record(session, self._steps, now)
        record_overwritten(session, self._overwritten)
        self.check_recorder.record(session, self._checks, now)
        self.look_recorder.record(session, self._looks, self.settings.verify_clock())
        if self._release_waits:
            release_outage_waits(session, now)
        session.commit()
        self.completed += sum(1 for o in self._steps if o.kind in ("applied", "already_applied"))
        self.read_backs += sum(1 for o in self._checks if o.kind != "retry")
        self.looks += len(self._looks)
        self._steps, self._checks, self._looks = [], [], []
        self._overwritten = {}
        self._release_waits = False
        self._last_flush = time.monotonic()

    def _recover(self, exc: Exception, trouble: int) -> None:
        """Roll back after a failed turn and pause a little longer each time it repeats."""
        self.troubles += 1
        pause = TROUBLE_PAUSE_S[min(trouble, len(TROUBLE_PAUSE_S)) - 1]
        if is_transient_error(exc):
            log.warning("sync worker: database error (%s); retrying in %.2f s", exc, pause)
        else:
            log.exception("sync worker: unexpected error; retrying in %.2f s", pause)
        try:
            db.session.rollback()
        except Exception:  # the connection may be gone; a new session gets a new one
            log.debug("rollback after a failed turn failed too", exc_info=True)
        db.session.remove()
        if trouble >= GIVE_UP_OUTCOMES_AFTER and not is_transient_error(exc):
            # Recording these keeps failing the same way: let their leases run out instead.
            # Nothing is lost: the steps come back, are verified against the platform first,
            # and their devices are read back again.
            dropped = len(self._steps) + len(self._checks) + len(self._looks)
            log.error("dropping %d unrecordable outcomes", dropped)
            self._steps, self._checks, self._looks = [], [], []
            self._overwritten = {}
        self.stop_event.wait(pause)

    def _has_waiting(self) -> bool:
        """Whether any step is pending (maybe in backoff) or leased, a read-back is owed, or a
        verification look is due now (looks due later do not keep `--until-idle` running)."""
        found = db.session.scalar(
            select(OutboxStep.id).where(OutboxStep.state.in_(UNFINISHED_STEP_STATES)).limit(1)
        )
        waiting = (
            found is not None
            or checks_waiting(db.session())
            or looks_due(db.session(), self.settings.verify_clock())
        )
        db.session.rollback()
        return waiting


def _probe(platform: Any, tuid: str) -> bool:
    """One cheap read every platform has: does the platform answer at all?"""
    try:
        platform.get_installation_status(tuid)
    except (errors.Unavailable, errors.MalformedResponse) as exc:
        log.info("platform probe failed: %s", exc)
        return False
    except errors.PlatformError:  # refused (404, 429...), but that is an answer
        return True
    except Exception:  # a bug in the probe must not keep the breaker open for good
        log.exception("platform probe failed unexpectedly")
        return True
    return True


def favour_io_threads() -> None:
    """Hand the GIL over more often than the 5 ms default.

    The loop thread's database work would otherwise keep a finished platform call waiting for
    the interpreter for up to one switch interval, which adds directly to every call's latency.
    """
    sys.setswitchinterval(IO_SWITCH_INTERVAL_S)


def _run_forever(worker: SyncWorker) -> None:
    """Run the worker until stopped, starting it again should anything escape its loop."""
    while not worker.stop_event.is_set():
        try:
            worker.run()
        except Exception:
            log.exception("in-process sync worker stopped unexpectedly; starting it again")
            worker.stop_event.wait(1.0)


def start_in_thread(app: Flask) -> tuple[SyncWorker, threading.Thread]:
    """Run a worker in a daemon thread of this process (the embedded single-machine setup)."""
    favour_io_threads()
    worker = SyncWorker(app)
    thread = threading.Thread(
        target=_run_forever, args=(worker,), name="fieldhand-sync", daemon=True
    )
    thread.start()
    log.info("sync worker %s started in-process", worker.name)
    return worker, thread
