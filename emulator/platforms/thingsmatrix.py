"""ThingsMatrix Service Platform 2.3 mode (seed 000; docs/platforms.md says what is assumed).

Every answer is {"code", "data", "msg"} with the seed's return codes; ASSUMPTION: an error
code comes with a fitting HTTP status (401 for token and login codes, 404 for missing things,
409 for duplicates, 500 for failures, 400 otherwise). Gateway-level failures (429, 502...) have
no code, as a proxy in front would answer them.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..errors import ApiError, json_response
from ..spec import INSTALLATION_STATUSES, UNASSIGNED
from ..tokens import TokenProblem
from .pipeline import Concept, Dialect, Handler, PlatformFault, json_payload
from .state import DeviceIds, PlatformState

API_PREFIX = "/api"
LOGIN = "login"
STATUS_ATTRIBUTE = "installationStatus"
MODELS = ("TMA01", "TMB02", "TMC03")

# The seed's return codes and messages (with its spelling).
MESSAGES: dict[int, str] = {
    -1: "unknown error",
    9999: "fail",
    10001: "request body check error %s",
    10002: "%s service invocation failed",
    10003: "duplicate record",
    10004: "edit failed",
    10005: "query failed",
    10006: "delete failed",
    10007: "%s non-existent",
    10008: "%s %s do not match",
    10009: "%s resource access failed",
    10010: "%s cannot be empty",
    10011: "%s isn't allowed to be edited",
    10012: "%s isn't allowed to be deleted",
    10013: "%s alreayd exists",
    10014: "request body parse error",
    10015: "unique field %s already exists",
    10016: "%s ready only",
    10017: "invalid id %s",
    10018: "invalid sn %s",
    10019: "table %s does not exist",
    14101: "invalid token",
    14102: "token parse failed",
    14103: "not authorized",
    14201: "username or password incorrect",
    14202: "user forbidden",
    14203: "company forbidden",
    14401: "invalid or non-existent equipment",
    14402: "[%s/%s] relationship is not allowed to be modified",
    14403: "[%s] and device are related",
    14404: "[%s] model are inconsistent",
    14405: "group does not have elements",
    14406: "[%s] and group are related",
    14407: "invalid operations (same group)",
    14408: "no data available for %s-%s",
    14410: "groupId:[%s] does not match model:[%s]",
    14501: "the protocol does not support this instruction",
}
_UNAUTHORIZED = {14101, 14102, 14103, 14201, 14202, 14203}
_NOT_FOUND = {10007, 10018, 14401, 14408}
_CONFLICT = {10003, 10013, 10015}
_FAILED = {-1, 9999, 10002, 10004, 10005, 10006, 10009, 10019}


def http_status(code: int) -> int:
    """The HTTP status a return code comes with (ASSUMPTION)."""
    if code in _UNAUTHORIZED:
        return 401
    if code in _NOT_FOUND:
        return 404
    if code in _CONFLICT:
        return 409
    if code in _FAILED:
        return 500
    return 400


def fault(code: int, *args: object) -> PlatformFault:
    """Build the answer for a return code, filling its %s placeholders."""
    template = MESSAGES.get(code, "fail")
    count = template.count("%s")
    values = tuple(str(a) for a in args[:count]) + ("",) * (count - len(args[:count]))
    return PlatformFault(http_status(code), code, (template % values).strip())


def _sn(rng: random.Random) -> str:
    return "1" + "".join(rng.choices("0123456789", k=10))


IDS = DeviceIds(
    "ThingsMatrix sn (4-32 letters, digits or dashes)",
    re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}\Z"),
    _sn,
)


def _when(unix_s: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix_s))


def _hex_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json_payload(request)
    except ValueError:
        raise fault(10014) from None
    if not isinstance(body, dict):
        raise fault(10014)
    return body


def _paging(request: Request) -> tuple[int, int, str, bool]:
    args = request.args
    try:
        page = int(args.get("page", "0"))
        size = int(args.get("size", "20"))
    except ValueError:
        raise fault(10001, "page/size") from None
    if page < 0 or not 1 <= size <= 1000:
        raise fault(10001, "page/size")
    field, _, order = (args.get("sort") or "").replace(" ", ",").partition(",")
    return page, size, field, order.strip().lower() != "asc"  # descending by default (seed)


def _page(rows: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    page, size, field, descending = _paging(request)
    if field:
        rows = sorted(rows, key=lambda r: str(r.get(field) or ""), reverse=descending)
    total = len(rows)
    pages = max(1, -(-total // size))
    return {
        "content": rows[page * size : (page + 1) * size],
        "totalElements": total,
        "last": page >= pages - 1,
        "totalPages": pages,
        "number": page,
        "size": size,
    }


def _group_json(state: PlatformState, group_id: str) -> dict[str, Any]:
    model = state.group_model(group_id)
    return {
        "id": group_id,
        "name": state.group_name(group_id),
        "description": "",
        "model": {"id": _hex_id(model), "name": model} if model else None,
        "creator": "admin",
    }


def _device_json(state: PlatformState, sn: str) -> dict[str, Any]:
    state.require_device(sn, lambda _: fault(14401))
    status = state.status_of(sn)
    model = state.model_of(sn) or MODELS[0]
    group = state.group_of(sn)
    return {
        "id": _hex_id(sn),
        "sn": sn,
        "imei": None,
        "iccid": None,
        "onlineStatus": 1 if state.is_online(sn) else 0,
        "status": 1,
        "attributes": {STATUS_ATTRIBUTE: status} if status else {},
        "tags": [],
        "description": None,
        "creator": "admin",
        "createTime": _when(state.clock.now()),
        "model": {"id": _hex_id(model), "name": model, "vendor": "ThingsMatrix", "type": 1},
        "group": None if group == UNASSIGNED else _group_json(state, group),
    }


# --- handlers: (state, request, client id, **route args) -> (HTTP status, data) ---------------


def login(state: PlatformState, request: Request, caller: None) -> tuple[int, Any]:
    body = _body(request)
    try:
        token = state.issue_token_md5(body.get("loginName"), body.get("password"))
    except ApiError:
        raise fault(14201) from None
    return 200, {"token": token}


def search(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    body = _body(request)
    group_id, sn = body.get("groupId"), body.get("sn")
    if group_id is not None and group_id not in state.group_ids():
        raise fault(10007, f"group {group_id}")
    sns = state.tuids() if group_id is None else state.members(group_id)
    rows = [_device_json(state, s) for s in sns if sn is None or s == sn]
    if isinstance(body.get("compositeStatus"), int):
        rows = [r for r in rows if r["onlineStatus"] == body["compositeStatus"]]
    return 200, _page(rows, request)


def device(state: PlatformState, request: Request, caller: str, sn: str) -> tuple[int, Any]:
    return 200, _device_json(state, sn)


def set_attributes(state: PlatformState, request: Request, caller: str, sn: str) -> tuple[int, Any]:
    state.require_device(sn, lambda _: fault(14401))
    body = _body(request)
    if STATUS_ATTRIBUTE in body:
        if body[STATUS_ATTRIBUTE] not in INSTALLATION_STATUSES:
            raise fault(10001, STATUS_ATTRIBUTE)
        state.write_status(sn, body[STATUS_ATTRIBUTE], caller)
    state.merge_tags(sn, {k: v for k, v in body.items() if k != STATUS_ATTRIBUTE})
    return 200, _device_json(state, sn)


def set_group(state: PlatformState, request: Request, caller: str, sn: str) -> tuple[int, Any]:
    state.require_device(sn, lambda _: fault(14401))
    group_id = _body(request).get("groupId")
    if not isinstance(group_id, str) or not group_id:
        raise fault(10010, "groupId")
    if group_id not in state.group_ids():
        raise fault(10007, f"group {group_id}")
    if state.group_of(sn) == group_id:
        raise fault(14407)
    model, group_model = state.model_of(sn), state.group_model(group_id)
    if group_model is not None and group_model != model:
        raise fault(14410, group_id, model)
    state.join_group(sn, group_id)
    return 200, _device_json(state, sn)


def leave_group(state: PlatformState, request: Request, caller: str, sn: str) -> tuple[int, Any]:
    state.require_device(sn, lambda _: fault(14401))
    if state.group_of(sn) == UNASSIGNED:
        raise fault(14405)  # ASSUMPTION: taking a device out of no group
    state.join_group(sn, UNASSIGNED)
    return 200, _device_json(state, sn)


def groups(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    name = request.args.get("name")
    rows = [_group_json(state, g) for g in state.group_ids()]
    if name:
        rows = [r for r in rows if name.lower() in r["name"].lower()]
    return 200, _page(rows, request)


def create_group(state: PlatformState, request: Request, caller: str) -> tuple[int, Any]:
    body = _body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fault(10010, "name")
    if state.name_taken(name):
        raise fault(10013, name)
    description = body.get("description")
    group_id = state.create_named_group(name, description if isinstance(description, str) else None)
    return 200, _group_json(state, group_id)


def delete_group(
    state: PlatformState, request: Request, caller: str, group_id: str
) -> tuple[int, Any]:
    if group_id not in state.group_ids():
        raise fault(10007, f"group {group_id}")
    if state.members(group_id):
        raise fault(14406, group_id)
    state.forget_group(group_id)
    return 200, None


ROUTES = Map(
    [
        Rule("/auth/login", methods=["POST"], endpoint=LOGIN),
        Rule("/devices/search", methods=["POST"], endpoint="search"),
        Rule("/devices/<sn>", methods=["GET"], endpoint="device"),
        Rule("/devices/<sn>/attributes", methods=["PUT"], endpoint="set_attributes"),
        Rule("/devices/<sn>/group", methods=["PUT"], endpoint="set_group"),
        Rule("/devices/<sn>/group", methods=["DELETE"], endpoint="leave_group"),
        Rule("/groups", methods=["GET"], endpoint="groups"),
        Rule("/groups", methods=["POST"], endpoint="create_group"),
        Rule("/groups/<group_id>", methods=["DELETE"], endpoint="delete_group"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)
HANDLERS: dict[str, Handler] = {
    LOGIN: login,
    "search": search,
    "device": device,
    "set_attributes": set_attributes,
    "set_group": set_group,
    "leave_group": leave_group,
    "groups": groups,
    "create_group": create_group,
    "delete_group": delete_group,
}


def concepts(endpoint: str, request: Request, args: dict[str, Any]) -> list[Concept]:
    """Name the Thingsee calls a request stands for, for scripted faults."""
    thing = f"/things/{args.get('sn', '')}"
    if endpoint == "device":
        return [("GET", thing), ("GET", thing + "/installations"), ("GET", thing + "/group")]
    if endpoint == "set_attributes":
        return [("POST", thing + "/installations")]
    if endpoint in ("set_group", "leave_group"):
        return [("POST", thing + "/group")]
    if endpoint == LOGIN:
        return [("POST", "/auth/client-token")]
    if endpoint == "delete_group":
        return [("DELETE", f"/groups/{args['group_id']}")]
    return [("GET" if endpoint != "create_group" else "POST", "/groups")]


def authenticate(state: PlatformState, request: Request) -> str:
    """Accept the API key, else a bearer token; refuse with 14101, 14102 or 14103."""
    key = request.headers.get("X-API-Key")
    if key is not None:
        client = state.check_api_key(key)
        if client is None:
            raise fault(14103)
        return client
    try:
        return state.authenticate(request.headers.get("Authorization"))
    except ApiError as refused:
        if refused.message == TokenProblem.MISSING.value:
            raise fault(14103) from None
        if refused.message == TokenProblem.MALFORMED.value:
            raise fault(14102) from None
        raise fault(14101) from None


def caller(state: PlatformState, request: Request) -> str | None:
    key = request.headers.get("X-API-Key")
    if key is not None:
        return state.check_api_key(key)
    return state.credential_for(request.headers.get("Authorization"))


def translate(error: ApiError) -> PlatformFault:
    if isinstance(error, PlatformFault):
        return error
    if error.status == 404:
        return fault(10007, "resource")
    if error.status == 409:
        return fault(10003)
    return fault(10001, error.message)


def error(refused: PlatformFault, headers: dict[str, str] | None) -> Response:
    if refused.code == refused.status and refused.code not in MESSAGES:
        # A gateway in front answers these, without the API's envelope.
        return json_response({"error": refused.message}, refused.status, headers)
    return json_response(
        {"code": refused.code, "data": None, "msg": refused.message}, refused.status, headers
    )


def fault_for_status(status: int) -> PlatformFault:
    messages = {429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}
    return PlatformFault(status, status, messages.get(status, f"HTTP {status}"))


def fault_for_code(code: int | str) -> PlatformFault:
    return fault(int(code)) if str(code).lstrip("-").isdigit() else fault(9999)


DIALECT = Dialect(
    key="thingsmatrix",
    title="ThingsMatrix 2.3",
    api_prefix=API_PREFIX,
    routes=ROUTES,
    handlers=HANDLERS,
    public=frozenset({LOGIN}),
    authenticate=authenticate,
    caller=caller,
    concepts=concepts,
    fault_for_code=fault_for_code,
    fault_for_status=fault_for_status,
    translate=translate,
    success=lambda status, data: json_response({"code": 0, "data": data, "msg": "success"}, status),
    error=error,
)
