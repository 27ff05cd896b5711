"""`flask --app app sync ...`: run a sync worker as its own process."""

from __future__ import annotations

import signal
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from app.sync.worker import SyncWorker, WorkerSettings, favour_io_threads

sync_cli = AppGroup("sync", help="Push accepted operations to the platform.")


@sync_cli.command("run")
@click.option("--concurrency", type=int, default=None, help="Platform calls in parallel.")
@click.option("--until-idle", is_flag=True, help="Exit when nothing is left to send.")
@click.option("--name", default=None, help="Worker name shown in the audit trail.")
def run_command(concurrency: int | None, until_idle: bool, name: str | None) -> None:
    """Drain the outbox until stopped (SIGTERM/SIGINT finish the calls in flight first).

    Transient errors never end it: database errors are retried in the loop, platform errors
    back off per step, and a platform-wide outage pauses claims until the platform answers.
    """
    favour_io_threads()
    settings = WorkerSettings.from_config(current_app.config)
    if concurrency:
        settings.concurrency = concurrency
    worker = SyncWorker(current_app._get_current_object(), settings, name=name)  # type: ignore[attr-defined]

    def _stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"signal {signum}: finishing calls in flight", err=True)
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(
        f"sync worker {worker.name}: concurrency {settings.concurrency}, "
        f"platform {current_app.config.get('PLATFORM_URL')}"
    )
    # Returns only when stopped by a signal or, with --until-idle, when nothing is left: every
    # transient error (database or platform) is retried inside the loop.
    done = worker.run(until_idle=until_idle)
    click.echo(
        f"sync worker {worker.name}: {done} steps completed, {worker.read_backs} devices read "
        f"back, {worker.troubles} database errors survived"
    )
