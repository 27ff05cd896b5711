"""What the fleet benches share (sync.py, verify.py, bulk.py): their command line, the app on an
emulator process, the technician's operations ingested, and a sync worker set up as
`flask sync run` sets it up."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import httpx

from bench._support import emulator_token

if TYPE_CHECKING:
    from flask import Flask

    from app.sync.worker import SyncWorker

BATCH = 500  # operations per ingest call, as a phone's large upload


def arguments(doc: str | None, *, devices: int, latency_ms: float) -> argparse.ArgumentParser:
    """Return the parser with the options every fleet bench takes; the bench adds its own."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=devices)
    parser.add_argument("--latency-ms", type=float, default=latency_ms)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    return parser


def platform_settings(emu: dict[str, Any]) -> dict[str, str]:
    """The PLATFORM_* settings that point the app at this emulator process."""
    return {
        "PLATFORM_URL": emu["base_url"],
        "PLATFORM_CLIENT_ID": emu["client_id"],
        "PLATFORM_CLIENT_SECRET": emu["client_secret"],
    }


def create_app(database_url: str, emu: dict[str, Any], **settings: Any) -> Flask:
    """Create the app on this database and emulator, with any further settings."""
    from app import create_app as create

    return create({"DATABASE_URL": database_url, **platform_settings(emu), **settings})


def unassigned_tuids(emu: dict[str, Any], count: int) -> list[str]:
    """Return up to `count` of the emulator's devices that are in no group yet."""
    response = httpx.get(
        emu["base_url"] + "groups/unassigned/things",
        headers={"Authorization": f"Bearer {emulator_token(emu)}"},
        timeout=60,
    )
    tuids: list[str] = response.json()["data"]["tuids"][:count]
    return tuids


def add_group(emu: dict[str, Any], group_id: str) -> None:
    """Create a deployment group on the emulator."""
    httpx.post(
        emu["base_url"] + "groups",
        json={"group_id": group_id},
        headers={"Authorization": f"Bearer {emulator_token(emu)}"},
        timeout=30,
    ).raise_for_status()


def ingest_as_technician(app: Flask, operations: list[dict[str, object]]) -> None:
    """Ingest the operations as one technician's, in phone-sized batches."""
    from app.database import db
    from app.services.accounts import create_user
    from app.services.operations import ingest

    with app.app_context():
        user = create_user("bench", "bench-password-long", "technician")
        for start in range(0, len(operations), BATCH):
            ingest(operations[start : start + BATCH], user)
        db.session.remove()


def worker(app: Flask, concurrency: int, **settings: Any) -> SyncWorker:
    """Return a worker set up as `flask sync run` sets one up, polling every 50 ms."""
    from app.sync.worker import SyncWorker, WorkerSettings, favour_io_threads

    worker_settings = WorkerSettings.from_config(app.config)
    worker_settings.concurrency = concurrency
    worker_settings.poll_seconds = 0.05
    for name, value in settings.items():
        setattr(worker_settings, name, value)
    favour_io_threads()
    return SyncWorker(app, worker_settings, name="bench")
