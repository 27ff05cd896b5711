"""The API's input rules (spec §2 and §6.4); each check raises BadRequest with a reason."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from .errors import BadRequest
from .spec import INSTALLATION_STATUSES, UNASSIGNED

# The documented naming convention (spec §2.8), enforced only in strict mode.
STRICT_GROUP_ID = re.compile(r"^(pr|rd|dm|un)([a-z]{2})00[a-z0-9]+$")
MAX_GROUP_ID_LENGTH = 64
COMMAND_EVENTS = (30, 35)  # config request, command request
MAX_TRANSACTION_ID = 2_147_483_647


def new_group_id(value: Any, *, strict: bool) -> str:
    """Check a group id for create or rename: non-empty, no whitespace, not `unassigned`."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("group_id is required")
    if any(ch.isspace() for ch in value):
        raise BadRequest("group_id must not contain whitespace")
    if value.lower() == UNASSIGNED:
        raise BadRequest("group_id 'unassigned' is reserved")
    if strict and (len(value) > MAX_GROUP_ID_LENGTH or not STRICT_GROUP_ID.match(value)):
        raise BadRequest(
            "group_id must follow the naming convention, e.g. 'prfi00haltianhq' "
            "(lowercase alphanumerics, at most 64 characters)"
        )
    return value


def group_target(value: Any) -> str:
    """Check the group a device is assigned to; `unassigned` is allowed here."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("group_id is required")
    return value


def installation_status(value: Any) -> str:
    """Check an installation status against the documented list, case-sensitively."""
    if value not in INSTALLATION_STATUSES:
        raise BadRequest(f"installation_status must be one of {', '.join(INSTALLATION_STATUSES)}")
    return str(value)


def commands(value: Any, allowlist: Collection[int]) -> list[dict[str, Any]]:
    """Check a POST /commands body: a non-empty array of allowed config or command requests."""
    if not isinstance(value, list) or not value:
        raise BadRequest("body must be a non-empty JSON array of commands")
    for index, command in enumerate(value):
        if not isinstance(command, dict):
            raise BadRequest(f"command {index} is not an object")
        tsm_id, tsm_ev = command.get("tsmId"), command.get("tsmEv")
        if not _is_int(tsm_id) or not _is_int(tsm_ev):
            raise BadRequest(f"command {index} needs integer tsmId and tsmEv")
        if tsm_id not in allowlist:
            raise BadRequest(f"command {index}: tsmId {tsm_id} is not allowed")
        if tsm_ev not in COMMAND_EVENTS:
            raise BadRequest(f"command {index}: tsmEv must be 30 (config) or 35 (command)")
        if "transactionId" in command:
            transaction_id = command["transactionId"]
            if not _is_int(transaction_id) or not 0 <= transaction_id <= MAX_TRANSACTION_ID:
                raise BadRequest(f"command {index}: transactionId must be 0-{MAX_TRANSACTION_ID}")
    return value


def optional_int(params: dict[str, str], name: str, *, minimum: int = 0) -> int | None:
    """Read an integer query parameter; absent is None, anything non-numeric is a 400."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        number = int(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if number < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return number


def optional_int_list(params: dict[str, str], name: str) -> list[int] | None:
    """Read a comma-separated list of integers such as messageid=1110,12100."""
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BadRequest(f"{name} must be a comma-separated list of integers") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
