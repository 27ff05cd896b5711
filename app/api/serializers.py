"""JSON shapes shared by several resources."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models.devices import Device
from app.models.operations import Operation


def iso(value: datetime | None) -> str | None:
    """Return an ISO-8601 string with zone, or None."""
    return value.isoformat() if value is not None else None


def operation_json(op: Operation, *, with_steps: bool = True) -> dict[str, Any]:
    """Serialise an operation the way the phone and the console read it."""
    data: dict[str, Any] = {
        "op_id": op.op_id,
        "kind": op.kind,
        "tuid": op.tuid,
        "args": op.args,
        "state": op.state,
        "device_time": iso(op.device_time),
        "received_at": iso(op.received_at),
        "synced_at": iso(op.synced_at),
        "updated_at": iso(op.updated_at),
        "offline_delay_s": round(op.offline_delay_s, 1),
        "user": {"username": op.user.username, "display_name": op.user.display_name},
        "seen": {"status": op.seen_status, "group": op.seen_group},
        "error": (
            {"code": op.error_code, "message": op.error_message} if op.error_message else None
        ),
        "bulk_job_id": op.bulk_job_id,
    }
    if with_steps:
        data["steps"] = [
            {
                "tuid": s.tuid,
                "action": s.action,
                "value": s.value,
                "state": s.state,
                "attempts": s.attempts,
                "result": s.result,
                "last_error": s.last_error,
            }
            for s in op.steps
        ]
    return data


def cached_device_json(local: Device | None) -> dict[str, Any] | None:
    """Serialise what the device cache holds on a device (None when it holds nothing)."""
    if local is None:
        return None
    return {
        "status": local.status,
        "group": local.group_id,
        "source": local.source,
        "updated_at": iso(local.updated_at),
    }
