"""Run a bulk dry run's platform reads in a background thread of the web process.

Reading 10,000 devices takes tens of seconds at real platform latencies: longer than a request
should be held open (and than gunicorn's timeout allows for 50,000). The request stores the job
as `checking` and returns; this thread reads, writes progress and the verdicts. A thread dies
with its process, so a dry run whose progress stops is marked failed after a while
(bulk.expire_stale_check) and the supervisor runs it again: it changed nothing.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from app.database import db
from app.platform.provider import platform_for
from app.services import bulk
from app.services.bulk_targets import TargetLine

log = logging.getLogger(__name__)


def check_in_background(
    app: Flask,
    job_id: int,
    *,
    action: bulk.JobAction,
    lines: list[TargetLine],
    known_group: str | None,
    concurrency: int,
) -> threading.Thread:
    """Start reading the job's devices; return the thread (tests and shutdown may join it)."""

    def run() -> None:
        with app.app_context():
            try:
                bulk.run_preview(
                    job_id,
                    action=action,
                    lines=lines,
                    platform=platform_for(app),
                    known_group=known_group,
                    concurrency=concurrency,
                )
            except Exception:  # already recorded on the job as check_failed
                log.exception("bulk job %s: dry run failed", job_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name=f"bulk-check-{job_id}", daemon=True)
    thread.start()
    return thread
