"""thingsHub REST API v3 as a `Platform` (seed 003; mapping in docs/platforms.md).

What the seed documents, and how we use it:
- `POST auth/token` with username and password returns a session access token, the session's
  `expires` time and the `User` (with `last_login_at`). Tokens expire with the session, so the
  token's lifetime is `expires - last_login_at` (both the platform's clock); we refresh before
  it ends and, should the session end early (401), fetch a new one once and replay.
- Devices are created, read, updated and deleted over REST (`/api/v3/devices`).
- Errors come as `{"code": <HTTP status>, "error": "<text>"}`; the seed asks not to rely on the
  text, so only the status decides: 400 ValidationFailed, 401 refused token, 403 AuthError
  (logged in, not allowed), 404 NotFound, 500/503 Unavailable.
- Nothing in the seed groups devices, keeps an installation status or its history, or reads
  messages. Our installation status lives in the device's `tags` (ASSUMPTION); deployment
  groups are a capability this platform does not have (OptionalCalls answers for them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.platform.capabilities import Capabilities, DeviceIdRule, PlatformProfile
from app.platform.errors import MalformedResponse
from app.platform.http import HttpPlatform, client_options
from app.platform.interface import INSTALLATION_STATUSES, InstallationRecord, ThingInfo
from app.platform.optional import OptionalCalls
from app.platform.shapes import checked_status, expect_dict, segment, str_or_none
from app.platform.tokens import FetchedToken

TOKEN_PATH = "auth/token"
STATUS_TAG = "installation_status"

PROFILE = PlatformProfile(
    key="thingshub",
    title="thingsHub",
    capabilities=Capabilities(
        last_seen=True,
    ),
    device_id=DeviceIdRule(
        name="DevEUI",
        description="The device's LoRaWAN DevEUI: 16 hexadecimal digits.",
        example="70B3D57ED0041D8A",
        max_length=16,
    ),
    token_ttl=3600.0,  # only when an answer gives no usable `expires`
)

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """Parse thingsHub's RFC 3339 times (nanoseconds and all); None when unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ThingsHubClient(HttpPlatform, OptionalCalls):
    """Thread-safe thingsHub v3 client: one session token and one connection pool."""

    profile = PROFILE
    user_agent = "fieldhand-thingshub/1"

    def __init__(self, base_url: str, username: str, password: str, **options: Any) -> None:
        if not username or not password:
            raise ValueError("thingsHub needs a username and password")
        self.username = username
        self._client_secret = password
        super().__init__(base_url, **options)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ThingsHubClient:
        """Build a client from PLATFORM_URL, PLATFORM_CLIENT_ID (user) and ..._SECRET."""
        required = ("PLATFORM_URL", "PLATFORM_CLIENT_ID", "PLATFORM_CLIENT_SECRET")
        missing = [key for key in required if not config.get(key)]
        if missing:
            raise ValueError(f"the thingsHub platform is not configured: set {', '.join(missing)}")
        url, username, password = (str(config[key]) for key in required)
        return cls(url, username, password, **client_options(config))

    def __repr__(self) -> str:
        return f"ThingsHubClient(base_url={self.base_url!r}, username={self.username!r})"

    # ---- devices -------------------------------------------------------------------------

    def _device(self, eui: str) -> dict[str, Any]:
        return expect_dict(self._get(f"devices/{segment(eui, 'DevEUI')}"))

    def get_thing(self, tuid: str) -> ThingInfo:
        """Return the device record and the time thingsHub last heard from it."""
        data = self._device(tuid)
        seen = parse_time(data.get("last_seen"))
        return ThingInfo(
            tuid=tuid,
            timestamp=int(seen.timestamp()) if seen else None,
            model=str_or_none(data.get("driver")),
            raw=data,
        )

    def get_installation_status(self, tuid: str) -> str | None:
        """Return the status kept in the device's tags, None if Fieldhand never set one."""
        tags = self._device(tuid).get("tags")
        status = tags.get(STATUS_TAG) if isinstance(tags, dict) else None
        return status if status in INSTALLATION_STATUSES else None

    def set_installation_status(self, tuid: str, status: str) -> InstallationRecord:
        """Update the device's `installation_status` tag (other tags are kept)."""
        checked_status(status)
        path = f"devices/{segment(tuid, 'DevEUI')}"
        self._send_json("PATCH", path, body={"tags": {STATUS_TAG: status}})
        return InstallationRecord(tuid=tuid, installation_status=status)

    # ---- what thingsHub says differently -------------------------------------------------

    def _request_token(self) -> str | FetchedToken:
        """Log in for a session token that lives until the session's `expires`."""
        body = {"username": self.username, "password": self._client_secret}
        response = self._post_for_token(TOKEN_PATH, body)
        if response.status_code in (400, 401, 403):
            raise self._credentials_refused(response, self._client_secret)
        data = self._read_data(response, "GET")
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise MalformedResponse("the login answer has no token", status=response.status_code)
        return FetchedToken(token.strip(), _session_lifetime(data))


def _session_lifetime(data: dict[str, Any]) -> float | None:
    """Return `expires - User.last_login_at` in seconds, or None when the answer lacks them."""
    user = data.get("User")
    expires = parse_time(data.get("expires"))
    logged_in = parse_time(user.get("last_login_at")) if isinstance(user, dict) else None
    if expires is None or logged_in is None:
        return None
    lifetime = (expires - logged_in).total_seconds()
    return lifetime if lifetime > 0 else None
