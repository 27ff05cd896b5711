"""A device's platform messages in a technician's words: what happened, not tsmId numbers.

Each message becomes a `kind` the PWA and the console name in their own language, the time and
the few values worth showing (spec §5: the boot sequence, battery, network, data reports).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_BY_EVENT = {11: "powered_on", 17: "network_connected", 18: "network_disconnected"}
_CONFIG_EVENTS = {30: "config_requested", 31: "config_reported", 35: "command", 36: "command"}
_BY_ID = {
    1110: "battery",
    1202: "signal",
    11200: "gateway_heartbeat",
    12100: "environment",
    12101: "environment",
    13100: "presence",
    13102: "presence",
    2100: "presence",
    17100: "distance",
    18100: "angle",
    24100: "air",
    24101: "air",
}
# The payload fields shown per kind (the rest is for engineers, in the platform's own tools).
_VALUES = {
    "battery": ("batl",),
    "signal": ("nbRssi",),
    "gateway_heartbeat": ("nodeCount",),
    "environment": ("temp", "humd"),
    "presence": ("move", "in", "out"),
    "distance": ("dist",),
    "angle": ("pitch", "roll"),
    "air": ("co2", "tvoc"),
    "powered_on": ("swVersion",),
}


def message_kind(message: dict[str, Any]) -> str:
    """Return what a message says happened, as a word the clients translate."""
    event, tsm_id = message.get("tsmEv"), message.get("tsmId")
    if event in _BY_EVENT:
        return _BY_EVENT[event]
    if event in _CONFIG_EVENTS:
        return _CONFIG_EVENTS[event]
    if event == 101:
        return "battery"
    return _BY_ID.get(tsm_id, "data") if isinstance(tsm_id, int) else "data"


def describe_message(message: dict[str, Any]) -> dict[str, Any]:
    """Return {kind, at, values} for one platform message."""
    kind = message_kind(message)
    ts = message.get("tsmTs")
    at = datetime.fromtimestamp(ts, UTC).isoformat() if isinstance(ts, int | float) else None
    values = {k: message[k] for k in _VALUES.get(kind, ()) if message.get(k) is not None}
    return {"kind": kind, "at": at, "values": values}
