"""A device as the technician's card shows it: our history plus what the platform says now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.database import db
from app.labels.device_types import device_type_for
from app.models.devices import Device
from app.models.operations import Operation
from app.platform import errors as platform_errors
from app.platform.interface import Platform
from app.services.operation_rules import normalise_tuid
from app.services.operations import device_history


@dataclass
class DeviceView:
    tuid: str
    device_type: str
    local: Device | None
    platform: dict[str, Any]
    history: list[Operation] = field(default_factory=list)


def _platform_view(platform: Platform, tuid: str) -> dict[str, Any]:
    view: dict[str, Any] = {"reachable": False, "found": False, "message": None}
    try:
        info = platform.get_thing(tuid)
        status = platform.get_installation_status(tuid)
        group = platform.get_group(tuid)
    except platform_errors.NotFound:
        view.update(
            reachable=True,
            message="This device is not in the platform stack: check the label, or that it "
            "belongs to this customer.",
        )
        return view
    except platform_errors.PlatformError as exc:
        view["message"] = f"Platform unreachable: {exc.message}. Showing what we knew last."
        return view
    last_seen = datetime.fromtimestamp(info.timestamp, UTC).isoformat() if info.timestamp else None
    view.update(
        reachable=True,
        found=True,
        status=status,
        group=group,
        battery_level=info.battery_level,
        last_seen=last_seen,
        version=info.version,
        online=info.online,  # platforms with an online flag instead of a latest event
        model=info.model,
    )
    return view


def device_view(tuid: str, platform: Platform) -> DeviceView:
    """Return local knowledge and live platform state of a device; refresh the cache on success."""
    tuid = normalise_tuid(tuid)
    live = _platform_view(platform, tuid)
    local = db.session.get(Device, tuid)
    if live.get("found"):
        if local is None:
            local = Device(tuid=tuid, device_type=device_type_for(tuid))
            db.session.add(local)
        if local.source == "platform" or local.status is None:
            local.status = live.get("status")
            local.group_id = live.get("group")
            local.source = "platform"
            local.updated_at = datetime.now(UTC)
        db.session.commit()
    return DeviceView(
        tuid=tuid,
        device_type=device_type_for(tuid),
        local=local,
        platform=live,
        history=device_history(tuid),
    )
