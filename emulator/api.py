"""The Open Services API under /prod/v1/: routes and thin handlers over EmulatorState."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from . import validation
from .errors import BadRequest
from .state import EmulatorState

API_PREFIX = "/prod/v1"
TOKEN_ENDPOINT = "client_token"

# The literal /things/alerts routes come before /things/<tuid> (spec §2): werkzeug also ranks
# static segments above converters, and the order here says so for the reader.
API_ROUTES = Map(
    [
        Rule("/auth/client-token", methods=["POST"], endpoint=TOKEN_ENDPOINT),
        Rule("/things/alerts", methods=["GET"], endpoint="alerting_things"),
        Rule("/things/alerts/count", methods=["GET"], endpoint="alert_count"),
        Rule("/things/<tuid>", methods=["GET"], endpoint="thing"),
        Rule("/things/<tuid>/messages", methods=["GET"], endpoint="messages"),
        Rule("/things/<tuid>/commands", methods=["GET"], endpoint="commands"),
        Rule("/things/<tuid>/commands", methods=["POST"], endpoint="send_commands"),
        Rule("/things/<tuid>/installations", methods=["GET"], endpoint="installations"),
        Rule("/things/<tuid>/installations", methods=["POST"], endpoint="set_installation"),
        Rule("/things/<tuid>/group", methods=["GET"], endpoint="group"),
        Rule("/things/<tuid>/group", methods=["POST"], endpoint="set_group"),
        Rule("/things/<tuid>/alerts", methods=["GET"], endpoint="thing_alerts"),
        Rule("/groups", methods=["GET"], endpoint="groups"),
        Rule("/groups", methods=["POST"], endpoint="create_group"),
        Rule("/groups/<group_id>", methods=["DELETE"], endpoint="delete_group"),
        Rule("/groups/<group_id>/rename", methods=["POST"], endpoint="rename_group"),
        Rule("/groups/<group_id>/things", methods=["GET"], endpoint="group_things"),
    ],
    # Trailing slashes are stripped before matching, so never redirect.
    strict_slashes=False,
    merge_slashes=False,
)

Handler = Callable[..., Any]


def json_body(request: Request) -> Any:
    """Parse the request body as JSON whatever its Content-Type says (charset included)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("request body is required")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("request body is not valid JSON") from None


def json_object(request: Request) -> dict[str, Any]:
    """Parse a body that must be a JSON object."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def client_token(state: EmulatorState, request: Request, client_id: str | None) -> Any:
    """Answer POST /auth/client-token with a new token."""
    body = json_object(request)
    return {"token": state.issue_token(body.get("client_id"), body.get("client_secret"))}


def alerting_things(state: EmulatorState, request: Request, client_id: str) -> Any:
    """Answer GET /things/alerts."""
    return {"alerting_tuids": state.alerting_tuids()}


def alert_count(state: EmulatorState, request: Request, client_id: str) -> Any:
    """Answer GET /things/alerts/count."""
    # The real API returns the count as a string (spec §2.9).
    return {"alert_count": str(len(state.alerting_tuids()))}


def thing(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer GET /things/{tuid}."""
    return state.thing_info(tuid)


def messages(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer GET /things/{tuid}/messages; `limit` is required."""
    params = request.args.to_dict()
    limit = validation.optional_int(params, "limit")
    if limit is None:
        raise BadRequest("limit is required")
    return state.messages(tuid, limit, **_message_filters(params))


def commands(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer GET /things/{tuid}/commands."""
    params = request.args.to_dict()
    limit = validation.optional_int(params, "limit")
    return state.commands(tuid, limit, **_message_filters(params))


def send_commands(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer POST /things/{tuid}/commands."""
    return state.send_commands(tuid, json_body(request), client_id)


def installations(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer GET /things/{tuid}/installations."""
    limit = validation.optional_int(request.args.to_dict(), "limit")
    return state.installations(tuid, limit)


def set_installation(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer POST /things/{tuid}/installations."""
    body = json_object(request)
    return state.set_installation_status(tuid, body.get("installation_status"), client_id)


def group(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer GET /things/{tuid}/group."""
    return {"group_id": state.group_of(tuid), "tuid": tuid}


def set_group(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer POST /things/{tuid}/group."""
    return state.assign_group(tuid, json_object(request).get("group_id"))


def thing_alerts(state: EmulatorState, request: Request, client_id: str, tuid: str) -> Any:
    """Answer GET /things/{tuid}/alerts."""
    params = request.args.to_dict()
    since = validation.optional_int(params, "from")
    until = validation.optional_int(params, "to")
    return state.thing_alerts(tuid, since, until)


def groups(state: EmulatorState, request: Request, client_id: str) -> Any:
    """Answer GET /groups."""
    params = request.args.to_dict()
    return state.list_groups(params.get("q"), validation.optional_int(params, "limit"))


def create_group(state: EmulatorState, request: Request, client_id: str) -> Any:
    """Answer POST /groups."""
    body = json_object(request)
    return state.create_group(body.get("group_id"), body.get("group_description"))


def delete_group(state: EmulatorState, request: Request, client_id: str, group_id: str) -> Any:
    """Answer DELETE /groups/{group_id}."""
    return state.delete_group(group_id)


def rename_group(state: EmulatorState, request: Request, client_id: str, group_id: str) -> Any:
    """Answer POST /groups/{group_id}/rename."""
    return state.rename_group(group_id, json_object(request).get("group_id"))


def group_things(state: EmulatorState, request: Request, client_id: str, group_id: str) -> Any:
    """Answer GET /groups/{group_id}/things."""
    return state.group_things(group_id)


HANDLERS: dict[str, Handler] = {
    TOKEN_ENDPOINT: client_token,
    "alerting_things": alerting_things,
    "alert_count": alert_count,
    "thing": thing,
    "messages": messages,
    "commands": commands,
    "send_commands": send_commands,
    "installations": installations,
    "set_installation": set_installation,
    "group": group,
    "set_group": set_group,
    "thing_alerts": thing_alerts,
    "groups": groups,
    "create_group": create_group,
    "delete_group": delete_group,
    "rename_group": rename_group,
    "group_things": group_things,
}


def _message_filters(params: dict[str, str]) -> dict[str, Any]:
    return {
        "message_ids": validation.optional_int_list(params, "messageid"),
        "event_ids": validation.optional_int_list(params, "eventid"),
        "since": validation.optional_int(params, "from"),
        "until": validation.optional_int(params, "to"),
    }
