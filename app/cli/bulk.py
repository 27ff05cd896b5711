"""`flask --app app bulk ...`: the bulk console's twin for scripts and very long lists.

    flask --app app bulk retire --tuids-file devices.csv --user sue [--dry-run] [--yes]
                               [--results out.csv] [--run-worker]
    flask --app app bulk move --group prfi00site --from-group prfi00old --user sue --yes

The same preview, confirm and outbox as the API. The sync worker normally runs as its own
process (`flask sync run`); --run-worker also drains the outbox here, for scripting.
Exit status: 0 when every device that had to change did, 1 when some failed or were cancelled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.database import db
from app.errors import DomainError
from app.models.bulk import BulkJob
from app.models.users import User
from app.platform.provider import platform_for
from app.services import bulk as bulk_service
from app.services import exports
from app.services.bulk import targets as bulk_targets
from app.sync.worker import SyncWorker

bulk_cli = AppGroup("bulk", help="Retire, quarantine, uninstall or move many devices at once.")

PROBLEMS_SHOWN = 20
BULK_ROLES = ("supervisor", "admin")


def _source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--tuids-file",
            type=click.File("rb"),
            help="CSV or plain list: a column named tuid, else the first; '-' reads stdin.",
        ),
        click.option("--from-group", help="Every device in this deployment group instead."),
        click.option("--user", "username", required=True, help="Supervisor or admin acting."),
        click.option("--dry-run", is_flag=True, help="Preview only; change nothing."),
        click.option("--yes", is_flag=True, help="Do not ask to confirm the count."),
        click.option(
            "--results", type=click.Path(dir_okay=False, path_type=Path), help="Write a result CSV."
        ),
        click.option(
            "--run-worker", is_flag=True, help="Also send the operations from this process."
        ),
        click.option("--poll", type=float, default=0.5, show_default=True, help="Seconds."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _acting_user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.ClickException(f"No active user '{username}'.")
    if user.role not in BULK_ROLES:
        raise click.ClickException(f"'{username}' is a {user.role}; bulk jobs need a supervisor.")
    return user


def _print_preview(job: BulkJob) -> None:
    s = job.summary
    click.echo(
        f"bulk job {job.id}: {job.action}"
        + (f" -> {job.target_group}" if job.target_group else "")
        + f", {s['lines']} lines, {s['devices']} devices"
    )
    for verdict in bulk_service.VERDICTS:
        click.echo(f"  {verdict:<10} {s.get(verdict, 0)}")
    for verdict in bulk_service.PROBLEMS:
        page = bulk_service.items_page(job.id, verdict, 0, PROBLEMS_SHOWN)
        for item in page.items:
            click.echo(f"  line {item.line_no}: {item.raw!r} {verdict}: {item.message}")
        if page.total > len(page.items):
            click.echo(f"  ... {page.total - len(page.items)} more {verdict} (see --results)")


def _write_results(job_id: int, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        for piece in exports.csv_chunks(
            exports.RESULTS_HEADER,
            bulk_service.iter_results(job_id),
            exports.result_cells,
            bom=False,
        ):
            out.write(piece)
    click.echo(f"results written to {path}")


def _follow_check(job_id: int, devices: int, poll: float) -> BulkJob:
    """Show a progress bar while the dry run reads the devices; return the job after it."""
    shown = 0
    with click.progressbar(length=max(devices, 1), label="reading", show_pos=True) as bar:
        while True:
            db.session.rollback()  # a fresh snapshot for each look
            job = bulk_service.settled_job(job_id)
            read = int(job.summary.get("read", 0))
            bar.update(read - shown)
            shown = read
            if job.state != bulk_service.CHECKING:
                return job
            time.sleep(poll)


def _follow(job_id: int, poll: float) -> bulk_service.Progress:
    """Show a progress bar until the job is done or cancelled; return the final progress."""
    job = bulk_service.settled_job(job_id)
    progress = bulk_service.job_progress(job)
    shown = 0
    with click.progressbar(length=max(progress.total, 1), label="syncing", show_pos=True) as bar:
        while True:
            bar.update(progress.done - shown)
            shown = progress.done
            if job.state in (bulk_service.DONE, bulk_service.CANCELLED):
                break
            time.sleep(poll)
            db.session.rollback()  # a fresh snapshot for the next look
            job = bulk_service.settled_job(job_id)
            progress = bulk_service.job_progress(job)
    return progress


def _run(
    action: str,
    target_group: str | None,
    tuids_file: Any,
    from_group: str | None,
    username: str,
    dry_run: bool,
    yes: bool,
    results: Path | None,
    run_worker: bool,
    poll: float,
) -> None:
    if bool(tuids_file) == bool(from_group):
        raise click.UsageError("Give exactly one of --tuids-file or --from-group.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user = _acting_user(username)
    limit = int(app.config["BULK_MAX_DEVICES"])
    job_action = bulk_service.job_action(action, target_group)
    if from_group:
        targets = bulk_targets.from_group(platform_for(app), from_group, limit)
    else:
        name = str(getattr(tuids_file, "name", "stdin"))
        targets = bulk_targets.from_csv(tuids_file.read(), name, limit)
    started = time.perf_counter()
    job = bulk_service.start_dry_run(app, action=job_action, targets=targets, user=user)
    job_id = job.id
    try:
        job = _follow_check(job_id, int(job.summary["devices"]), poll)
    except KeyboardInterrupt:
        bulk_service.cancel(job_id, user)
        bulk_service.join_dry_run(app, job_id)
        click.echo("\ndry run stopped; nothing was changed")
        raise SystemExit(130) from None
    bulk_service.join_dry_run(app, job_id)
    if job.state == bulk_service.CHECK_FAILED:
        raise click.ClickException(str(job.summary.get("failure")))
    _print_preview(job)
    click.echo(f"preview took {time.perf_counter() - started:.1f} s")
    will_change = int(job.summary["will_change"])
    if dry_run:
        if results:
            _write_results(job_id, results)
        click.echo("dry run: nothing changed")
        return
    if will_change and not yes:
        typed = click.prompt(
            f"Type {will_change} to {action} {will_change} devices (anything else aborts)",
            default="",
            show_default=False,
        )
        if typed.strip() != str(will_change):
            bulk_service.cancel(job_id, user)
            raise click.ClickException("Not confirmed; the job was cancelled.")
    bulk_service.confirm(job_id, will_change, user)
    click.echo(f"bulk job {job_id}: {will_change} operations queued")

    worker_thread = None
    if run_worker:
        worker = SyncWorker(app)
        worker_thread = threading.Thread(
            target=worker.run, kwargs={"until_idle": True}, name="bulk-sync", daemon=True
        )
        worker_thread.start()
    else:
        click.echo("following progress; the sync worker (flask sync run) sends the operations")
    try:
        progress = _follow(job_id, poll)
    except KeyboardInterrupt:
        click.echo(f"\nstopped following; job {job_id} continues (cancel it with the API)")
        raise SystemExit(130) from None
    if worker_thread is not None:
        worker_thread.join()
    states = progress.by_state
    click.echo(
        f"done: {states['synced']} synced, {states['failed']} failed, "
        f"{states['conflict']} conflict, {states['discarded']} cancelled"
    )
    if results:
        _write_results(job_id, results)
    if states["failed"] or states["conflict"] or states["discarded"]:
        raise SystemExit(1)


def _guarded(action: str, target_group: str | None, options: dict[str, Any]) -> None:
    try:
        _run(action, target_group, **options)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


def _status_command(action: str) -> None:
    @bulk_cli.command(
        action, help=f"Set installation status {bulk_service.STATUS_ACTIONS[action]}."
    )
    @_source_options
    def command(**options: Any) -> None:
        _guarded(action, None, options)


for _action in bulk_service.STATUS_ACTIONS:
    _status_command(_action)


@bulk_cli.command("move", help="Move devices into a deployment group.")
@click.option("--group", "target_group", required=True, help="The target deployment group.")
@_source_options
def move_command(target_group: str, **options: Any) -> None:
    _guarded("move", target_group, options)
