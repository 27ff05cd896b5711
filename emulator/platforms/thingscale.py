"""ThingScale REST API 2.0 mode (seed 004; docs/platforms.md says what is assumed).

The seed documents the API token, the 20 requests/s limit with 429 beyond, and that devices are
activated and mapped to channels. ThingScale's developer pages add the shapes used here: the
`X-APITOKEN` header, `/v2/device/{device_id}` answering a one-item list, channel numbers and
`{"error": "NO_DEVICE"}`-style errors. ASSUMPTIONS: devices take a `metadata` object, a device's
channel is set with `PUT /device/{id}` `{"mapped_ch": n}` (null unmaps it), channels are listed
at `/v2/channel` and deleted with DELETE, and the session service lists connected devices.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..errors import ApiError, json_response
from ..spec import INSTALLATION_STATUSES, UNASSIGNED
from .pipeline import Concept, Dialect, Handler, PlatformFault, json_payload
from .state import DeviceIds, PlatformState

API_PREFIX = "/v2"
TOKEN_HEADER = "X-APITOKEN"
RATE_LIMIT = 20.0  # REST API requests per second (seed)

STATUS_BY_CODE: dict[str, int] = {
    "AUTH_REQUIRED": 401,
    "NO_DEVICE": 404,
    "NO_CHANNEL": 404,
    "MAX_DEVICE_REACH": 403,
    "CHANNEL_INUSE": 403,
    "INVALID_PARAMETER": 400,  # ASSUMPTION: the pages list no 400 body
    "TOO_MANY_REQUESTS": 429,  # ASSUMPTION: the seed gives the status, not the body
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}
_CHANNEL = re.compile(r"^[0-9]{1,9}\Z")


def fault(code: str, message: str | None = None) -> PlatformFault:
    return PlatformFault(STATUS_BY_CODE.get(code, 400), code, message or code)


def _device_id(rng: random.Random) -> str:
    return str(rng.randint(1_000_000_000, 1_999_999_999))


IDS = DeviceIds(
    "ThingScale device_id (4-32 letters, digits, dashes or underscores)",
    re.compile(r"^[A-Z0-9][A-Z0-9_-]{3,31}\Z"),
    _device_id,
)


def _iso(unix_s: float | None) -> str | None:
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json_payload(request)
    except ValueError as exc:
        raise fault("INVALID_PARAMETER", str(exc)) from None
    if not isinstance(body, dict):
        raise fault("INVALID_PARAMETER", "request body must be a JSON object")
    return body


def _channel(raw: str) -> str:
    if not _CHANNEL.match(raw):
        raise fault("INVALID_PARAMETER", "channel_id must be a number")
    return str(int(raw))


def _device_json(state: PlatformState, device_id: str) -> dict[str, Any]:
    state.require_device(device_id, lambda _: fault("NO_DEVICE"))
    tags = state.tags(device_id)
    status = state.status_of(device_id)
    group = state.group_of(device_id)
    return {
        "device_id": device_id,
        "description": tags.get("description", ""),
        "enabled": bool(tags.get("enabled", False)),
        "mapped_ch": None if group == UNASSIGNED else int(group),
        "device_type": "Xbee Pro",
        "location": tags.get("location", ""),
        "manufacturer": "sensinics,llc",
        "activate_at": _iso(tags.get("activate_at")),
        "metadata": {"installation_status": status} if status else {},
    }


def _channel_json(state: PlatformState, channel: str) -> dict[str, Any]:
    return {
        "channel": int(channel),
        "tag": "",
        "channel_name": state.group_description(channel) or "",
        "last_update": _iso(state.clock.now()),
    }


# --- handlers ---------------------------------------------------------------------------------


def devices(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    return 200, [_device_json(state, d) for d in state.tuids()]


def device(state: PlatformState, request: Request, caller: str, device_id: str) -> tuple[int, Any]:
    return 200, [_device_json(state, device_id)]


def create_device(
    state: PlatformState, request: Request, caller: str, device_id: str
) -> tuple[int, Any]:
    if not IDS.pattern.match(device_id):
        raise fault("INVALID_PARAMETER", "device_id is not valid")
    state.add_devices([device_id])
    return 201, None


def update_device(
    state: PlatformState, request: Request, caller: str, device_id: str
) -> tuple[int, Any]:
    state.require_device(device_id, lambda _: fault("NO_DEVICE"))
    body = _body(request)
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict):
        raise fault("INVALID_PARAMETER", "metadata must be an object")
    status = metadata.get("installation_status")
    if status is not None and status not in INSTALLATION_STATUSES:
        raise fault("INVALID_PARAMETER", f"installation_status {status!r} is not valid")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise fault("INVALID_PARAMETER", "enabled must be true or false")
    if "mapped_ch" in body:
        channel = body["mapped_ch"]
        if channel is not None and (isinstance(channel, bool) or not isinstance(channel, int)):
            raise fault("INVALID_PARAMETER", "mapped_ch must be a channel number or null")
        if channel is not None and str(channel) not in state.group_ids():
            raise fault("NO_CHANNEL")
        state.join_group(device_id, UNASSIGNED if channel is None else str(channel))
    if status is not None:
        state.write_status(device_id, status, caller)
    if body.get("enabled") is True and "activate_at" not in state.tags(device_id):
        state.merge_tags(device_id, {"activate_at": state.clock.now()})
    kept: dict[str, Any] = {k: body[k] for k in ("enabled", "description", "location") if k in body}
    state.merge_tags(device_id, kept)
    return 200, [_device_json(state, device_id)]


def channels(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    return 200, [_channel_json(state, c) for c in state.group_ids()]


def channel(
    state: PlatformState, request: Request, caller: str, channel_id: str
) -> tuple[int, Any]:
    number = _channel(channel_id)
    if number not in state.group_ids():
        raise fault("NO_CHANNEL")
    return 200, [_channel_json(state, number)]


def create_channel(
    state: PlatformState, request: Request, caller: str, channel_id: str
) -> tuple[int, Any]:
    number = _channel(channel_id)
    name = _body(request).get("channel_name") if request.get_data(cache=True).strip() else None
    if number in state.group_ids():
        raise fault("CHANNEL_INUSE")
    state.create_group(number, name if isinstance(name, str) and name else None)
    return 201, None


def delete_channel(
    state: PlatformState, request: Request, caller: str, channel_id: str
) -> tuple[int, Any]:
    number = _channel(channel_id)
    if number not in state.group_ids():
        raise fault("NO_CHANNEL")
    state.forget_group(number)  # its devices are left unmapped (ASSUMPTION)
    return 200, None


def sessions(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    now = _iso(state.clock.now())
    return 200, [
        {"device_id": d, "protocol": "mqtt", "connected_at": now}
        for d in state.tuids()
        if state.is_online(d)
    ]


ROUTES = Map(
    [
        Rule("/device", methods=["GET"], endpoint="devices"),
        Rule("/device/<device_id>", methods=["GET"], endpoint="device"),
        Rule("/device/<device_id>", methods=["POST"], endpoint="create_device"),
        Rule("/device/<device_id>", methods=["PUT"], endpoint="update_device"),
        Rule("/channel", methods=["GET"], endpoint="channels"),
        Rule("/channel/<channel_id>", methods=["GET"], endpoint="channel"),
        Rule("/channel/<channel_id>", methods=["POST"], endpoint="create_channel"),
        Rule("/channel/<channel_id>", methods=["DELETE"], endpoint="delete_channel"),
        Rule("/session", methods=["GET"], endpoint="sessions"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
HANDLERS: dict[str, Handler] = {
    "devices": devices,
    "device": device,
    "create_device": create_device,
    "update_device": update_device,
    "channels": channels,
    "channel": channel,
    "create_channel": create_channel,
    "delete_channel": delete_channel,
    "sessions": sessions,
}


def concepts(endpoint: str, request: Request, args: dict[str, Any]) -> list[Concept]:
    """Name the Thingsee calls a request stands for: a device update depends on its body."""
    thing = f"/things/{args.get('device_id', '')}"
    if endpoint == "device":
        return [("GET", thing), ("GET", thing + "/installations"), ("GET", thing + "/group")]
    if endpoint == "update_device":
        try:
            body = json_payload(request)
        except ValueError:
            return []
        body = body if isinstance(body, dict) else {}
        found: list[Concept] = []
        if "mapped_ch" in body:
            found.append(("POST", thing + "/group"))
        if "metadata" in body or "enabled" in body:
            found.append(("POST", thing + "/installations"))
        return found
    if endpoint in ("channels", "channel"):
        return [("GET", "/groups")]
    if endpoint == "create_channel":
        return [("POST", "/groups")]
    if endpoint == "delete_channel":
        return [("DELETE", f"/groups/{args['channel_id']}")]
    return []


def authenticate(state: PlatformState, request: Request) -> str:
    client = state.check_api_key(request.headers.get(TOKEN_HEADER))
    if client is None:
        raise fault("AUTH_REQUIRED")
    return client


def translate(error: ApiError) -> PlatformFault:
    if isinstance(error, PlatformFault):
        if isinstance(error.code, str):
            return error
        return PlatformFault(error.status, error.status, error.message)
    if error.status == 404:
        return fault("NO_DEVICE")
    if error.status == 409:
        return fault("CHANNEL_INUSE")
    return fault("INVALID_PARAMETER", error.message)


def error(refused: PlatformFault, headers: dict[str, str] | None) -> Response:
    code = refused.code if isinstance(refused.code, str) else _code_for(refused.status)
    return json_response({"error": code}, refused.status, headers)


def _code_for(status: int) -> str:
    if status == 429:
        return "TOO_MANY_REQUESTS"
    if status == 503:
        return "SERVICE_UNAVAILABLE"
    if status >= 500:
        return "INTERNAL_ERROR"
    return {401: "AUTH_REQUIRED", 404: "NO_DEVICE"}.get(status, "INVALID_PARAMETER")


DIALECT = Dialect(
    key="thingscale",
    title="ThingScale 2.0",
    api_prefix=API_PREFIX,
    routes=ROUTES,
    handlers=HANDLERS,
    public=frozenset(),
    authenticate=authenticate,
    caller=lambda state, request: state.check_api_key(request.headers.get(TOKEN_HEADER)),
    concepts=concepts,
    fault_for_code=lambda code: fault(str(code)),
    fault_for_status=lambda status: PlatformFault(status, _code_for(status), _code_for(status)),
    translate=translate,
    success=lambda status, data: (
        json_response(data, status) if data is not None else Response(status=status)
    ),
    error=error,
)
