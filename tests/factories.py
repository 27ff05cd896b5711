"""Factory helpers for rows and payloads used across tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def op(
    kind: str,
    tuid: str,
    *,
    at: datetime | None = None,
    minutes: float = 0,
    op_id: str | None = None,
    **args: Any,
) -> dict[str, Any]:
    """Build an operation as the phone sends it."""
    when = (at or datetime.now(UTC) - timedelta(minutes=30)) + timedelta(minutes=minutes)
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "kind": kind,
        "tuid": tuid,
        "args": args,
        "device_time": when.isoformat(),
        "seen": {},
    }


def platform_statuses(emulator: Any, tuid: str) -> list[str]:
    """The device's installation history on the emulator, oldest first."""
    return [r["installation_status"] for r in emulator.state.installation_history(tuid)]
