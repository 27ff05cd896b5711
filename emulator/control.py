"""The test-control surface under /_emulator/: devices, clock, settings, call log, stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import validation
from .api import json_object
from .errors import BadRequest
from .state import EmulatorState

CONTROL_PREFIX = "/_emulator"

CONTROL_ROUTES = Map(
    [
        Rule("/devices", methods=["GET"], endpoint="list_devices"),
        Rule("/devices", methods=["POST"], endpoint="add_devices"),
        Rule("/devices/<tuid>/power-on", methods=["POST"], endpoint="power_on"),
        Rule("/power-plan", methods=["POST"], endpoint="power_plan"),
        Rule("/devices/<tuid>/offline", methods=["POST"], endpoint="offline"),
        Rule("/clock", methods=["GET"], endpoint="clock"),
        Rule("/clock/advance", methods=["POST"], endpoint="advance_clock"),
        Rule("/settings", methods=["GET"], endpoint="settings"),
        Rule("/settings", methods=["POST"], endpoint="update_settings"),
        Rule("/calls", methods=["GET"], endpoint="calls"),
        Rule("/calls", methods=["DELETE"], endpoint="clear_calls"),
        Rule("/things/<tuid>", methods=["GET"], endpoint="thing"),
        Rule("/history", methods=["GET"], endpoint="history"),
        Rule("/stats", methods=["GET"], endpoint="stats"),
        Rule("/reset", methods=["POST"], endpoint="reset"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)


def list_devices(state: EmulatorState, request: Request) -> Any:
    """List every simulated TUID."""
    return {"tuids": state.tuids()}


def add_devices(state: EmulatorState, request: Request) -> Any:
    """Add devices from {"tuids": [...]} and/or {"count": N}; return their TUIDs."""
    body = json_object(request)
    tuids, count = body.get("tuids"), body.get("count", 0)
    if tuids is not None and not isinstance(tuids, list):
        raise BadRequest("tuids must be a list")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadRequest("count must be a non-negative integer")
    if not tuids and not count:
        raise BadRequest("give tuids or a count")
    return {"tuids": state.add_devices(tuids, count)}


def power_on(state: EmulatorState, request: Request, tuid: str) -> Any:
    """Power a device on and return its boot messages, newest first."""
    return {"tuid": tuid, "messages": state.power_on(tuid)}


def power_plan(state: EmulatorState, request: Request) -> Any:
    """Unpower devices from {"devices": {tuid: seconds until power-on | null for never}}."""
    plan = json_object(request).get("devices")
    if not isinstance(plan, dict) or not plan:
        raise BadRequest("devices must be an object of TUID: seconds or null")
    for tuid, after_s in plan.items():
        if after_s is None:
            continue
        if isinstance(after_s, bool) or not isinstance(after_s, int | float) or after_s < 0:
            raise BadRequest(f"{tuid}: seconds until power-on must be a non-negative number")
    return state.power_plan(plan)


def offline(state: EmulatorState, request: Request, tuid: str) -> Any:
    """Silence a device."""
    return state.set_offline(tuid)


def clock(state: EmulatorState, request: Request) -> Any:
    """Return emulator time."""
    return {"now": state.clock.now()}


def advance_clock(state: EmulatorState, request: Request) -> Any:
    """Move emulator time forward by {"seconds": s}."""
    seconds = json_object(request).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise BadRequest("seconds must be a non-negative number")
    return {"now": state.advance(seconds)}


def settings(state: EmulatorState, request: Request) -> Any:
    """Return the live settings."""
    return state.settings_snapshot()


def update_settings(state: EmulatorState, request: Request) -> Any:
    """Change live settings from a JSON object; return them all."""
    return state.update_settings(**json_object(request))


def calls(state: EmulatorState, request: Request) -> Any:
    """Return logged API calls after ?since_id=."""
    since_id = validation.optional_int(request.args.to_dict(), "since_id") or 0
    return {"calls": [call.to_json() for call in state.calls_since(since_id)]}


def clear_calls(state: EmulatorState, request: Request) -> Any:
    """Empty the call log."""
    state.clear_calls()
    return {"cleared": True}


def thing(state: EmulatorState, request: Request, tuid: str) -> Any:
    """Return the emulator's full record of a device."""
    return state.thing_snapshot(tuid)


def history(state: EmulatorState, request: Request) -> Any:
    """Return every device's writes, oldest first (?tuids=A,B narrows it)."""
    raw = request.args.get("tuids")
    tuids = [t for t in raw.split(",") if t] if raw else None
    return {"devices": state.history(tuids)}


def stats(state: EmulatorState, request: Request) -> Any:
    """Return request counters."""
    return state.stats()


def reset(state: EmulatorState, request: Request) -> Any:
    """Reset the emulator to its start state."""
    state.reset()
    return {"reset": True}


HANDLERS: dict[str, Callable[..., Any]] = {
    "list_devices": list_devices,
    "add_devices": add_devices,
    "power_on": power_on,
    "power_plan": power_plan,
    "offline": offline,
    "clock": clock,
    "advance_clock": advance_clock,
    "settings": settings,
    "update_settings": update_settings,
    "calls": calls,
    "clear_calls": clear_calls,
    "thing": thing,
    "history": history,
    "stats": stats,
    "reset": reset,
}
