"""Thingsee Open Services as a `Platform`, over httpx (spec: platform/thingsee-open-services.md).

The shared plumbing (pool, timeouts, retries, token cache, typed errors) is app.platform.http;
this module is what Thingsee says differently.

Tokens (spec section 1, "Client token policy"): one token is cached with the monotonic time it
was fetched and refreshed before use once it is `token_ttl - token_margin` old. A single-flight
lock (app.platform.tokens) makes any number of threads that find it stale share exactly one
token request. A 401, or a 403 whose message is about authorization (API Gateway), refreshes
once (reusing a token another thread fetched meanwhile) and replays the request once; a second
refusal raises AuthError, as do bad credentials.

Errors map to app.platform.errors: 400/422 and other unfixable 4xx -> ValidationFailed (with
the platform's message), 404 -> NotFound, 409 -> Conflict, 429 -> RateLimited (with
Retry-After), a 403 that is not about tokens -> AuthError without a refresh, 5xx, timeouts and
connection errors -> Unavailable, a 2xx we cannot read -> MalformedResponse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.platform.capabilities import Capabilities, DeviceIdRule, PlatformProfile
from app.platform.errors import MalformedResponse, ValidationFailed
from app.platform.http import HttpPlatform, client_options
from app.platform.interface import (
    UNASSIGNED,
    Group,
    InstallationRecord,
    ThingAlerts,
    ThingInfo,
)
from app.platform.shapes import (
    checked_status,
    error_message,
    expect_dict,
    expect_list,
    expect_str,
    float_or_none,
    int_or_none,
    str_or_none,
)
from app.platform.shapes import segment as _segment
from app.platform.tokens import FetchedToken

TOKEN_PATH = "auth/client-token"

PROFILE = PlatformProfile(
    key="thingsee",
    title="Thingsee",
    capabilities=Capabilities(
        installation_history=True,
        deployment_groups=True,
        group_create=True,
        group_rename=True,
        group_delete=True,
        last_seen=True,
        battery_level=True,
        messages=True,
        commands=True,
        alerts=True,
    ),
    device_id=DeviceIdRule(
        name="TUID",
        description="17 letters and digits: the 6-character IMC and the 11-character PSN.",
        example="TSPR04EZU31901021",
        max_length=17,
    ),
)

# API Gateway answers some token failures with 403 instead of 401; these words tell them apart
# from a 403 about the request itself.
_AUTH_403_HINTS = ("authoriz", "authenticat", "token", "not authorized")


def _check_group_id(group_id: str, *, allow_unassigned: bool) -> None:
    """Apply the spec's documented group id rules locally; normalising is the service's job."""
    if not isinstance(group_id, str) or not group_id:
        raise ValidationFailed("group_id must be a non-empty string")
    if any(ch.isspace() for ch in group_id):
        raise ValidationFailed(f"group_id must not contain whitespace: {group_id!r}")
    if not allow_unassigned and group_id.lower() == UNASSIGNED:
        raise ValidationFailed(f"'{UNASSIGNED}' is reserved and cannot be used here")


class ThingseeClient(HttpPlatform):
    """Thread-safe Thingsee Open Services client sharing one token and one connection pool."""

    profile = PROFILE
    user_agent = "fieldhand-thingsee/1"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        **options: Any,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("platform client id and secret are required")
        self.client_id = client_id
        self._client_secret = client_secret
        super().__init__(base_url, **options)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ThingseeClient:
        """Build a client from PLATFORM_* settings."""
        required = ("PLATFORM_URL", "PLATFORM_CLIENT_ID", "PLATFORM_CLIENT_SECRET")
        missing = [key for key in required if not config.get(key)]
        if missing:
            raise ValueError(f"the Thingsee platform is not configured: set {', '.join(missing)}")
        url, client_id, secret = (str(config[key]) for key in required)
        return cls(url, client_id, secret, **client_options(config))

    def __repr__(self) -> str:
        return f"ThingseeClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def __enter__(self) -> ThingseeClient:
        return self

    # ---- devices -------------------------------------------------------------------------

    def get_thing(self, tuid: str) -> ThingInfo:
        """Return what the platform knows about a device; every field may be missing."""
        data = self._expect_dict(self._get(f"things/{_segment(tuid, 'tuid')}"))
        location = data.get("location")
        location = location if isinstance(location, dict) else {}
        return ThingInfo(
            tuid=tuid,
            battery_level=int_or_none(data.get("battery_level")),
            timestamp=int_or_none(data.get("timestamp")),
            lat=float_or_none(location.get("lat")),
            lon=float_or_none(location.get("lon")),
            gateway_tuid=str_or_none(data.get("gateway_tuid")),
            version=str_or_none(data.get("version")),
            raw=data,
        )

    def get_installations(self, tuid: str, limit: int = 1) -> list[InstallationRecord]:
        """Return the device's installation history, newest first (possibly empty)."""
        path = f"things/{_segment(tuid, 'tuid')}/installations"
        items = self._expect_list(self._get(path, params={"limit": int(limit)}))
        records = [self._installation(tuid, item) for item in items]
        # The apps read item 0 as current; keep the platform's order but make sure of it.
        # sorted() is stable, so records sharing a second stay in the platform's order.
        return sorted(records, key=lambda r: r.timestamp or 0, reverse=True)

    def get_installation_status(self, tuid: str) -> str | None:
        """Return the current installation status, or None when there is no history."""
        records = self.get_installations(tuid, limit=1)
        return records[0].installation_status if records else None

    def set_installation_status(self, tuid: str, status: str) -> InstallationRecord:
        """Append an installation status to the device's history."""
        checked_status(status)
        path = f"things/{_segment(tuid, 'tuid')}/installations"
        data = self._post(path, {"installation_status": status})
        if data is None:  # 204: accepted with nothing to say
            return InstallationRecord(tuid=tuid, installation_status=status)
        return self._installation(tuid, self._expect_dict(data), default_status=status)

    def get_group(self, tuid: str) -> str:
        """Return the device's deployment group id (`unassigned` when it has none)."""
        data = self._expect_dict(self._get(f"things/{_segment(tuid, 'tuid')}/group"))
        group_id = data.get("group_id")
        if group_id is None:
            return UNASSIGNED
        return self._expect_str(group_id, "group_id")

    def set_group(self, tuid: str, group_id: str) -> str:
        """Move the device into a deployment group; `unassigned` removes it from its group."""
        _check_group_id(group_id, allow_unassigned=True)
        return self._post_group_id(f"things/{_segment(tuid, 'tuid')}/group", group_id)

    # ---- deployment groups ---------------------------------------------------------------

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[Group]:
        """Return deployment groups (including `unassigned`), optionally filtered by `q`."""
        params: dict[str, Any] = {}
        if q:
            params["q"] = q
        if limit is not None:
            params["limit"] = int(limit)
        items = self._expect_list(self._get("groups", params=params))
        groups = []
        for item in items:
            item = self._expect_dict(item)
            groups.append(
                Group(
                    group_id=self._expect_str(item.get("group_id"), "group_id"),
                    description=str_or_none(item.get("group_description")),
                )
            )
        return groups

    def create_group(self, group_id: str, description: str | None = None) -> Group:
        """Create a deployment group with the id exactly as given."""
        _check_group_id(group_id, allow_unassigned=False)
        body: dict[str, Any] = {"group_id": group_id}
        if description is not None:
            body["group_description"] = description
        data = self._post("groups", body)
        if data is None:
            return Group(group_id, description)
        data = self._expect_dict(data)
        return Group(
            group_id=self._expect_str(data.get("group_id", group_id), "group_id"),
            description=str_or_none(data.get("group_description", description)),
        )

    def rename_group(self, group_id: str, new_group_id: str) -> str:
        """Rename a deployment group (its members move with it); return the new id."""
        _check_group_id(new_group_id, allow_unassigned=False)
        return self._post_group_id(f"groups/{_segment(group_id, 'group_id')}/rename", new_group_id)

    def _post_group_id(self, path: str, group_id: str) -> str:
        """POST a group id; return the one the platform answers with (the sent one on a 204)."""
        data = self._post(path, {"group_id": group_id})
        if data is None:
            return group_id
        return self._expect_str(self._expect_dict(data).get("group_id", group_id), "group_id")

    def delete_group(self, group_id: str) -> None:
        """Delete a deployment group; the platform decides what happens to its members."""
        if isinstance(group_id, str) and group_id.lower() == UNASSIGNED:
            raise ValidationFailed(f"'{UNASSIGNED}' cannot be deleted")
        self._send_json("DELETE", f"groups/{_segment(group_id, 'group_id')}")

    def group_things(self, group_id: str) -> list[str]:
        """Return the TUIDs in a deployment group."""
        data = self._expect_dict(self._get(f"groups/{_segment(group_id, 'group_id')}/things"))
        tuids = self._expect_list(data.get("tuids", []))
        return [self._expect_str(tuid, "tuid") for tuid in tuids]

    # ---- messages and commands -----------------------------------------------------------

    def get_messages(
        self,
        tuid: str,
        limit: int,
        *,
        message_ids: list[int] | None = None,
        event_ids: list[int] | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return the device's messages, newest first, filtered as asked."""
        params: dict[str, Any] = {"limit": int(limit)}
        if message_ids:
            params["messageid"] = ",".join(str(int(i)) for i in message_ids)
        if event_ids:
            params["eventid"] = ",".join(str(int(i)) for i in event_ids)
        if since is not None:
            params["from"] = int(since)
        if until is not None:
            params["to"] = int(until)
        path = f"things/{_segment(tuid, 'tuid')}/messages"
        return [self._expect_dict(m) for m in self._expect_list(self._get(path, params=params))]

    def get_commands(self, tuid: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Return the commands sent to the device, newest first."""
        params = {"limit": int(limit)} if limit is not None else None
        path = f"things/{_segment(tuid, 'tuid')}/commands"
        return [self._expect_dict(c) for c in self._expect_list(self._get(path, params=params))]

    def send_commands(self, tuid: str, commands: list[dict[str, Any]]) -> dict[str, Any]:
        """Send config/command requests; a 200 only means the platform accepted them."""
        if not isinstance(commands, list) or not commands:
            raise ValidationFailed("commands must be a non-empty list")
        if not all(isinstance(c, dict) for c in commands):
            raise ValidationFailed("every command must be an object")
        data = self._post(f"things/{_segment(tuid, 'tuid')}/commands", commands)
        return {} if data is None else self._expect_dict(data)

    # ---- alerts --------------------------------------------------------------------------

    def alerting_tuids(self) -> list[str]:
        """Return the TUIDs that have an open alert."""
        data = self._expect_dict(self._get("things/alerts"))
        tuids = self._expect_list(data.get("alerting_tuids", []))
        return [self._expect_str(tuid, "tuid") for tuid in tuids]

    def alert_count(self) -> int:
        """Return how many devices alert (the platform sends the count as a string)."""
        data = self._expect_dict(self._get("things/alerts/count"))
        count = int_or_none(data.get("alert_count"))
        if count is None:
            raise MalformedResponse(f"alert_count is not a number: {data.get('alert_count')!r}")
        return count

    def thing_alerts(
        self, tuid: str, since: int | None = None, until: int | None = None
    ) -> list[ThingAlerts]:
        """Return the device's alert periods by type; an open period has `to` None."""
        params: dict[str, Any] = {}
        if since is not None:
            params["from"] = int(since)
        if until is not None:
            params["to"] = int(until)
        path = f"things/{_segment(tuid, 'tuid')}/alerts"
        result = []
        for item in self._expect_list(self._get(path, params=params)):
            item = self._expect_dict(item)
            periods = []
            for period in self._expect_list(item.get("alerts", [])):
                period = self._expect_dict(period)
                start = self._expect_str(period.get("from"), "from")
                periods.append((start, str_or_none(period.get("to"))))
            result.append(
                ThingAlerts(
                    tuid=str_or_none(item.get("tuid")) or tuid,
                    alert_type=str_or_none(item.get("alert_type")) or "",
                    periods=periods,
                )
            )
        return result

    # ---- what Thingsee says differently --------------------------------------------------

    def _is_token_refusal(self, response: httpx.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code == 403:
            message = error_message(response).lower()
            return any(hint in message for hint in _AUTH_403_HINTS)
        return False

    def _unwrap(self, response: httpx.Response, body: Any) -> Any:
        if not isinstance(body, dict) or "data" not in body:
            raise MalformedResponse(
                f"HTTP {response.status_code} without a 'data' member", status=response.status_code
            )
        return body["data"]

    def _request_token(self) -> str | FetchedToken:
        """POST the client credentials for a new token; called under the token lock."""
        body = {"client_id": self.client_id, "client_secret": self._client_secret}
        response = self._post_for_token(TOKEN_PATH, body)
        if response.status_code in (400, 401, 403):
            raise self._credentials_refused(response, self._client_secret, "client credentials")
        # "GET": a failed token request applied nothing, so its outcome is never unknown.
        data = self._read_data(response, "GET")
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise MalformedResponse("the token response has no token", status=response.status_code)
        return token.strip()

    # ---- shapes --------------------------------------------------------------------------

    @staticmethod
    def _installation(
        tuid: str, item: Any, default_status: str | None = None
    ) -> InstallationRecord:
        if not isinstance(item, dict):
            raise MalformedResponse(f"an installation record is not an object: {item!r}"[:200])
        status = item.get("installation_status", default_status)
        if not isinstance(status, str):
            raise MalformedResponse("an installation record has no installation_status")
        return InstallationRecord(
            tuid=str_or_none(item.get("tuid")) or tuid,
            installation_status=status,
            timestamp=int_or_none(item.get("timestamp")),
            responsible=str_or_none(item.get("responsible")),
        )

    _expect_dict = staticmethod(expect_dict)
    _expect_list = staticmethod(expect_list)
    _expect_str = staticmethod(expect_str)
