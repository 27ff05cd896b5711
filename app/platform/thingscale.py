"""ThingScale REST API 2.0 as a `Platform` (seed 004; mapping in docs/platforms.md).

What the seed documents, and how we use it:
- One API token per user for every REST call; it does not expire (an admin can reset it), so
  there is nothing to refresh: a refused token is an AuthError at once. ThingScale's developer
  pages send it in the `X-APITOKEN` header.
- REST calls are limited to 20 requests/s, 429 beyond. The client paces itself under that limit
  (app.platform.pacing) instead of running into it; PLATFORM_RATE_LIMIT changes the figure.
- Devices are activated (manually, or on first connect) and must be mapped to a channel; the
  device service does "manage devices, channel assign, activate". A channel is where a device's
  data goes, so it is our deployment group: the group id is the channel number. Channels are
  keyed by number, so they cannot be renamed, and a new one needs a number for its id.
- Errors are `{"error": "NO_DEVICE"}`-style codes with the HTTP status (developer pages).
- No installation status exists: ours lives in the device's `metadata` (ASSUMPTION), and the
  device is enabled exactly when it is installed. No history, messages, commands or alerts
  through this API; the session service (active pub/sub clients) tells whether a device is
  connected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from app.platform.capabilities import Capabilities, DeviceIdRule, PlatformProfile
from app.platform.errors import AuthError, Conflict, NotFound, PlatformError, ValidationFailed
from app.platform.http import HttpPlatform, client_options, http_error_for
from app.platform.interface import (
    INSTALLATION_STATUSES,
    UNASSIGNED,
    Group,
    InstallationRecord,
    ThingInfo,
)
from app.platform.optional import OptionalCalls
from app.platform.shapes import (
    checked_status,
    error_message,
    expect_dict,
    expect_list,
    int_or_none,
    json_or_none,
    segment,
    str_or_none,
)

TOKEN_HEADER = "X-APITOKEN"
CHANNEL_ID = re.compile(r"^[0-9]{1,9}\Z")

PROFILE = PlatformProfile(
    key="thingscale",
    title="ThingScale",
    capabilities=Capabilities(
        deployment_groups=True,
        group_create=True,
        group_delete=True,
        online_status=True,
    ),
    device_id=DeviceIdRule(
        name="device_id",
        description="The device's serial as ThingScale registers it: 4 to 32 letters, digits, "
        "dashes or underscores.",
        example="1085266243",
        max_length=32,
    ),
    token_ttl=float("inf"),
    rate_limit=20.0,
)

# Error codes a 403 carries that are about the request, not the token.
CONFLICT_CODES = frozenset({"CHANNEL_INUSE"})
REFUSED_CODES = frozenset({"MAX_DEVICE_REACH", "MAX_CHANNEL_REACH"})


def _error_code(response: httpx.Response) -> str | None:
    body = json_or_none(response)
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _channel(group_id: str) -> int:
    if not CHANNEL_ID.match(group_id):
        raise ValidationFailed(
            f"ThingScale channels are numbered: a group id is the channel number, "
            f"e.g. 12 (got {group_id!r})"
        )
    return int(group_id)


class ThingScaleClient(HttpPlatform, OptionalCalls):
    """Thread-safe ThingScale 2.0 client: the user's API token and one connection pool."""

    profile = PROFILE
    user_agent = "fieldhand-thingscale/1"

    def __init__(self, base_url: str, api_token: str, **options: Any) -> None:
        if not api_token:
            raise ValueError("ThingScale needs the user's API token (PLATFORM_API_KEY)")
        super().__init__(base_url, static_token=api_token, **options)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ThingScaleClient:
        """Build a client from PLATFORM_URL and PLATFORM_API_KEY."""
        missing = [key for key in ("PLATFORM_URL", "PLATFORM_API_KEY") if not config.get(key)]
        if missing:
            raise ValueError(f"the ThingScale platform is not configured: set {', '.join(missing)}")
        return cls(
            str(config["PLATFORM_URL"]), str(config["PLATFORM_API_KEY"]), **client_options(config)
        )

    def __repr__(self) -> str:
        return f"ThingScaleClient(base_url={self.base_url!r})"

    # ---- devices -------------------------------------------------------------------------

    def _device(self, device_id: str) -> dict[str, Any]:
        data = self._get(f"device/{segment(device_id, 'device_id')}")
        # The device service answers a list holding the one device.
        if isinstance(data, list):
            data = data[0] if data else None
        return expect_dict(data)

    def get_thing(self, tuid: str) -> ThingInfo:
        """Return the device record and whether it is connected (session service)."""
        data = self._device(tuid)
        sessions = expect_list(self._get("session"))
        online = any(isinstance(s, dict) and s.get("device_id") == tuid for s in sessions)
        return ThingInfo(
            tuid=tuid, online=online, model=str_or_none(data.get("device_type")), raw=data
        )

    def get_installation_status(self, tuid: str) -> str | None:
        """Return the status kept in the device's metadata, else what activation implies."""
        data = self._device(tuid)
        metadata = data.get("metadata")
        status = metadata.get("installation_status") if isinstance(metadata, dict) else None
        if status in INSTALLATION_STATUSES:
            return str(status)
        if data.get("enabled") is True:
            return "installed"
        return "new" if not data.get("activate_at") else "uninstalled"

    def set_installation_status(self, tuid: str, status: str) -> InstallationRecord:
        """Store the status and enable the device exactly when it is installed."""
        checked_status(status)
        body = {"enabled": status == "installed", "metadata": {"installation_status": status}}
        self._send_json("PUT", f"device/{segment(tuid, 'device_id')}", body=body)
        return InstallationRecord(tuid=tuid, installation_status=status)

    def get_group(self, tuid: str) -> str:
        """Return the channel the device is mapped to, `unassigned` when none."""
        channel = int_or_none(self._device(tuid).get("mapped_ch"))
        return UNASSIGNED if channel is None else str(channel)

    def set_group(self, tuid: str, group_id: str) -> str:
        """Map the device to a channel; `unassigned` removes the mapping."""
        channel = None if group_id == UNASSIGNED else _channel(group_id)
        path = f"device/{segment(tuid, 'device_id')}"
        try:
            self._send_json("PUT", path, body={"mapped_ch": channel})
        except NotFound as exc:
            if exc.code != "NO_CHANNEL":
                raise
            # The body says only NO_CHANNEL: name the channel so the inbox says which.
            raise NotFound(
                f"no channel {channel} ({exc.message})", status=404, code=exc.code
            ) from None
        return group_id

    # ---- channels as groups --------------------------------------------------------------

    def _channels(self) -> list[dict[str, Any]]:
        return [expect_dict(item) for item in expect_list(self._get("channel"))]

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[Group]:
        """Return `unassigned` and every channel (number, with its name as the description)."""
        groups = [Group(UNASSIGNED)]
        for item in self._channels():
            channel = int_or_none(item.get("channel"))
            if channel is not None:
                groups.append(Group(str(channel), str_or_none(item.get("channel_name"))))
        if q:
            needle = q.lower()
            groups = [
                g for g in groups if needle in g.group_id or needle in (g.description or "").lower()
            ]
        return groups[:limit] if limit else groups

    def create_group(self, group_id: str, description: str | None = None) -> Group:
        """Create the channel numbered `group_id`."""
        channel = _channel(group_id)
        body = {"channel_name": description} if description else {}
        self._post(f"channel/{channel}", body)
        return Group(str(channel), description)

    def delete_group(self, group_id: str) -> None:
        """Delete a channel; its devices are left unmapped."""
        if group_id == UNASSIGNED:
            raise ValidationFailed(f"'{UNASSIGNED}' cannot be deleted")
        self._send_json("DELETE", f"channel/{_channel(group_id)}")

    def group_things(self, group_id: str) -> list[str]:
        """Return the devices mapped to a channel (from the device list)."""
        channel = None if group_id == UNASSIGNED else _channel(group_id)
        if channel is not None and all(
            int_or_none(c.get("channel")) != channel for c in self._channels()
        ):
            raise NotFound(f"no channel {channel}", status=404, code="NO_CHANNEL")
        devices = [expect_dict(d) for d in expect_list(self._get("device"))]
        return [
            str(d.get("device_id"))
            for d in devices
            if int_or_none(d.get("mapped_ch")) == channel and d.get("device_id") is not None
        ]

    # ---- what ThingScale says differently ------------------------------------------------

    def _auth_headers(self, token: str) -> dict[str, str]:
        return {TOKEN_HEADER: token}

    def _read_data(self, response: httpx.Response, method: str) -> Any:
        # Writes may answer 200 or 201 with no body at all.
        if response.is_success and not response.content.strip():
            return None
        return super()._read_data(response, method)

    def _error_for(self, response: httpx.Response, method: str) -> PlatformError:
        code = _error_code(response)
        message = error_message(response)
        status = response.status_code
        if status == 403 and code in CONFLICT_CODES:
            return Conflict(message, status=status, code=code)
        if status == 403 and code in REFUSED_CODES:
            return ValidationFailed(message, status=status, code=code)
        error = http_error_for(response, method, message)
        error.code = code
        return error

    def _request_token(self) -> str:
        raise AuthError("ThingScale uses a fixed API token; there is nothing to fetch")
