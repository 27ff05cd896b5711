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
from app.platform.interface import InstallationRecord, Platform
from app.services.device_messages import describe_message
from app.services.operation_rules import normalise_tuid
from app.services.operations import device_history
from app.services.verifications import confirm_from_card, latest_for_device, verification_json

CARD_MESSAGES = 5  # the latest few messages the card shows
CARD_INSTALLATIONS = 5  # the platform's latest installation records the card shows


@dataclass
class DeviceView:
    tuid: str
    device_type: str
    local: Device | None
    platform: dict[str, Any]
    history: list[Operation] = field(default_factory=list)
    verification: dict[str, Any] | None = None


def _installation_json(record: InstallationRecord) -> dict[str, Any]:
    at = record.timestamp
    return {
        "status": record.installation_status,
        "at": datetime.fromtimestamp(at, UTC).isoformat() if at else None,
        "responsible": record.responsible,
    }


def _platform_view(platform: Platform, tuid: str) -> dict[str, Any]:
    view: dict[str, Any] = {"reachable": False, "found": False, "message": None}
    capabilities = platform.capabilities
    installations: list[InstallationRecord] = []
    messages: list[dict[str, Any]] = []
    try:
        info = platform.get_thing(tuid)
        if capabilities.installation_history:
            # One read gives the card the current status and the latest records.
            installations = platform.get_installations(tuid, limit=CARD_INSTALLATIONS)
            status = installations[0].installation_status if installations else None
        else:
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
    if capabilities.messages:
        try:
            messages = platform.get_messages(tuid, CARD_MESSAGES)
        except platform_errors.PlatformError:  # the card is still worth showing without them
            messages = []
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
        last_seen_unix=info.timestamp,
        installations=[_installation_json(r) for r in installations],
        messages=[describe_message(m) for m in messages],
    )
    return view


def device_view(tuid: str, platform: Platform) -> DeviceView:
    """Return local knowledge and live platform state of a device; refresh the cache on success."""
    tuid = normalise_tuid(tuid)
    live = _platform_view(platform, tuid)
    local = db.session.get(Device, tuid)
    verification = latest_for_device(tuid)
    if verification is not None and live.get("found"):
        confirm_from_card(verification, live.get("last_seen_unix"))
    live.pop("last_seen_unix", None)
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
        verification=verification_json(verification),
    )
