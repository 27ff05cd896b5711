"""thingsHub REST API v3 mode (seed 003; docs/platforms.md says what is assumed).

The seed documents `POST /api/v3/auth/token` (username, password) answering the `User`, the
session's `expires` and the `token`; bearer auth; devices over REST; and error objects
`{"code": <HTTP status>, "error": "<text>"}`, e.g. `{"code": 400, "error": "invalid
credentials"}`. ASSUMPTIONS: a device is addressed by its DevEUI, carries `tags` (a JSON
object) that PATCH merges, and reports `last_seen`; a session lasts `token_ttl` seconds.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..errors import ApiError, json_response
from ..spec import INSTALLATION_STATUSES
from .pipeline import Concept, Dialect, Handler, PlatformFault, json_payload
from .state import DeviceIds, PlatformState

API_PREFIX = "/api/v3"
LOGIN = "login"
STATUS_TAG = "installation_status"
SESSION_TTL_S = 7 * 24 * 3600.0  # the seed's example session: logged in, expires a week later

PHRASES = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    409: "conflict",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


def fault(status: int, message: str | None = None) -> PlatformFault:
    return PlatformFault(status, status, message or PHRASES.get(status, "error"))


def _eui(rng: random.Random) -> str:
    return "70B3D5" + "".join(rng.choices("0123456789ABCDEF", k=10))


IDS = DeviceIds("DevEUI (16 hexadecimal digits)", re.compile(r"^[0-9A-F]{16}\Z"), _eui)


def rfc3339(unix_s: float | None) -> str | None:
    """Format a time as thingsHub does: RFC 3339 UTC with nanoseconds."""
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _device_json(state: PlatformState, eui: str) -> dict[str, Any]:
    state.require_device(eui, lambda _: fault(404, f"device {eui} not found"))
    tags = state.tags(eui)
    status = state.status_of(eui)
    if status:
        tags[STATUS_TAG] = status
    created = rfc3339(state.clock.now())
    return {
        "id": state.tuids().index(eui) + 1,
        "eui": eui,
        "name": f"sensor-{eui[-4:].lower()}",
        "description": "",
        "driver": "generic-lorawan",
        "tags": tags,
        "last_seen": rfc3339(state.last_seen(eui)),
        "created_at": created,
        "updated_at": created,
    }


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json_payload(request)
    except ValueError as exc:
        raise fault(400, str(exc)) from None
    if not isinstance(body, dict):
        raise fault(400, "request body must be a JSON object")
    return body


# --- handlers ---------------------------------------------------------------------------------


def login(state: PlatformState, request: Request, caller: None) -> tuple[int, Any]:
    body = _body(request)
    try:
        token = state.issue_token(body.get("username"), body.get("password"))
    except ApiError:
        raise fault(400, "invalid credentials") from None
    now = state.clock.now()
    user = {
        "country": "",
        "created_at": rfc3339(now - 86400),
        "email": "",
        "full_name": "",
        "id": 1,
        "last_login_at": rfc3339(now),
        "password": "",
        "updated_at": rfc3339(now),
        "username": body["username"],
    }
    return 200, {"User": user, "expires": rfc3339(now + state.settings.token_ttl), "token": token}


def devices(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    return 200, [_device_json(state, eui) for eui in state.tuids()]


def create_device(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    eui = str(_body(request).get("eui", "")).upper()
    if not IDS.pattern.match(eui):
        raise fault(400, "eui must be 16 hexadecimal digits")
    if eui in state.tuids():
        raise fault(409, f"device {eui} already exists")
    state.add_devices([eui])
    return 201, _device_json(state, eui)


def device(state: PlatformState, request: Request, caller: str, eui: str) -> tuple[int, Any]:
    return 200, _device_json(state, eui)


def update_device(state: PlatformState, request: Request, caller: str, eui: str) -> tuple[int, Any]:
    state.require_device(eui, lambda _: fault(404, f"device {eui} not found"))
    tags = _body(request).get("tags", {})
    if not isinstance(tags, dict):
        raise fault(400, "tags must be an object")
    status = tags.get(STATUS_TAG)
    if status is not None and status not in INSTALLATION_STATUSES:
        raise fault(400, f"tag {STATUS_TAG} has no valid value")
    if status is not None:
        state.write_status(eui, status, caller)
    state.merge_tags(eui, {k: v for k, v in tags.items() if k != STATUS_TAG})
    return 200, _device_json(state, eui)


ROUTES = Map(
    [
        Rule("/auth/token", methods=["POST"], endpoint=LOGIN),
        Rule("/devices", methods=["GET"], endpoint="devices"),
        Rule("/devices", methods=["POST"], endpoint="create_device"),
        Rule("/devices/<eui>", methods=["GET"], endpoint="device"),
        Rule("/devices/<eui>", methods=["PATCH"], endpoint="update_device"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
HANDLERS: dict[str, Handler] = {
    LOGIN: login,
    "devices": devices,
    "create_device": create_device,
    "device": device,
    "update_device": update_device,
}


def concepts(endpoint: str, request: Request, args: dict[str, Any]) -> list[Concept]:
    """Name the Thingsee calls a request stands for, for scripted faults."""
    thing = f"/things/{args.get('eui', '')}"
    if endpoint == "device":
        return [("GET", thing), ("GET", thing + "/installations"), ("GET", thing + "/group")]
    if endpoint == "update_device":
        return [("POST", thing + "/installations")]
    if endpoint == LOGIN:
        return [("POST", "/auth/client-token")]
    return []


def authenticate(state: PlatformState, request: Request) -> str:
    try:
        return state.authenticate(request.headers.get("Authorization"))
    except ApiError as refused:
        raise fault(401, f"invalid or expired access token ({refused.message})") from None


def translate(error: ApiError) -> PlatformFault:
    if isinstance(error, PlatformFault):
        return error
    return fault(error.status, error.message)


def error(refused: PlatformFault, headers: dict[str, str] | None) -> Response:
    return json_response(
        {"code": refused.status, "error": refused.message}, refused.status, headers
    )


def fault_for_code(code: int | str) -> PlatformFault:
    status = int(code) if str(code).isdigit() else 500
    return fault(status)


DIALECT = Dialect(
    key="thingshub",
    title="thingsHub v3",
    api_prefix=API_PREFIX,
    routes=ROUTES,
    handlers=HANDLERS,
    public=frozenset({LOGIN}),
    authenticate=authenticate,
    caller=lambda state, request: state.credential_for(request.headers.get("Authorization")),
    concepts=concepts,
    fault_for_code=fault_for_code,
    fault_for_status=fault,
    translate=translate,
    success=lambda status, data: json_response(data, status),
    error=error,
)
