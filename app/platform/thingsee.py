"""Thingsee Open Services as a `Platform`, over httpx (spec: platform/thingsee-open-services.md).

Why synchronous: the sync worker is a thread pool (16-32 threads) whose database side uses
SQLAlchemy sync sessions, and the web process calls the platform from ordinary Flask views. One
`httpx.Client` is thread-safe and pools keep-alive connections, so every thread shares it; the
concurrency we need and per-device ordering (decided by the worker's claims, not here) do not
need an event loop, and an async client would only add a loop-in-a-thread bridge.

Tokens (spec section 1, "Client token policy"): one token is cached with the monotonic time it
was fetched and refreshed before use once it is `token_ttl - token_margin` old. A single-flight
lock (app.platform.tokens) makes any number of threads that find it stale share exactly one
token request. A 401, or a 403 whose message is about authorization (API Gateway), refreshes
once (reusing a token another thread fetched meanwhile) and replays the request once; a second
refusal raises AuthError, as do bad credentials. Secrets and tokens are never logged, never in a
repr and never in an exception message.

Errors map to app.platform.errors: 400/422 and other unfixable 4xx -> ValidationFailed (with
the platform's message), 404 -> NotFound, 409 -> Conflict, 429 -> RateLimited (with
Retry-After), a 403 that is not about tokens -> AuthError without a refresh, 5xx, timeouts and
connection errors -> Unavailable, a 2xx we cannot read -> MalformedResponse.
`Unavailable.outcome_unknown` is True when a write may have reached the platform (read/write
timeouts, dropped connections, 5xx answers to writes) and False when it cannot have (connect
errors and timeouts, no free pooled connection, GETs). `Unavailable.in_flight` says the write
may also still land later: read/write timeouts, dropped connections and 504 (API Gateway stopped
waiting; its integration may still run). Such a write can land until the platform's in-flight
bound (PLATFORM_INFLIGHT_BOUND_S, API Gateway's 29 s integration timeout) has passed since it
was sent, so the read timeout is never longer than that bound: waiting longer could only end in
the gateway's own 504.

Retry policy, deliberately small because the sync worker owns retries:
- GETs are safe to repeat: they retry on Unavailable up to `max_retries` times, sleeping
  `retry_backoff * 2**n` seconds (capped at 2 s) between tries.
- Writes (POST, DELETE) are never retried here. After an unknown outcome only the worker can
  decide, by reading the platform first (verify-then-retry), whether to write again.
- 429 is never retried here: RateLimited goes up so the worker can honour Retry-After.
- The 401/403 replay is the one exception for writes: the gateway refused the request before
  it reached the service, so replaying it cannot apply it twice.
- The token request retries a connect error once (nothing reached the server).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from app.platform.errors import (
    AuthError,
    Conflict,
    MalformedResponse,
    NotFound,
    PlatformError,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from app.platform.interface import (
    INSTALLATION_STATUSES,
    UNASSIGNED,
    Group,
    InstallationRecord,
    ThingAlerts,
    ThingInfo,
)
from app.platform.provider import inflight_bound
from app.platform.tokens import BearerToken, TokenCache

log = logging.getLogger(__name__)

TOKEN_PATH = "auth/client-token"
USER_AGENT = "fieldhand-thingsee/1"
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"  # what both Haltian apps send
POOL_SIZE = 64  # at least twice the sync worker's largest thread pool
CONNECT_TIMEOUT_S = 5.0
BACKOFF_CAP_S = 2.0
MESSAGE_MAX_CHARS = 300

# API Gateway answers some token failures with 403 instead of 401; these words tell them apart
# from a 403 about the request itself.
_AUTH_403_HINTS = ("authoriz", "authenticat", "token", "not authorized")
# Raised before any byte of the request can have reached the platform.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.LocalProtocolError)


def _segment(value: str, what: str) -> str:
    """Percent-encode one path segment (a TUID or group id), refusing an empty one."""
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"{what} must be a non-empty string")
    if value.strip(".") == "":
        # "." and ".." would be resolved as dot segments and address another resource.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def _check_group_id(group_id: str, *, allow_unassigned: bool) -> None:
    """Apply the spec's documented group id rules locally; normalising is the service's job."""
    if not isinstance(group_id, str) or not group_id:
        raise ValidationFailed("group_id must be a non-empty string")
    if any(ch.isspace() for ch in group_id):
        raise ValidationFailed(f"group_id must not contain whitespace: {group_id!r}")
    if not allow_unassigned and group_id.lower() == UNASSIGNED:
        raise ValidationFailed(f"'{UNASSIGNED}' is reserved and cannot be used here")


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _error_message(response: httpx.Response) -> str:
    """Return a human message from any error body: Thingsee JSON, AWS JSON or plain text."""
    text = ""
    try:
        text = response.text.strip()
        body = json.loads(text) if text else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        for key in ("message", "Message", "error", "errorMessage"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:MESSAGE_MAX_CHARS]
    if text and body is None and not text.lstrip().startswith("<"):
        return text[:MESSAGE_MAX_CHARS]
    reason = response.reason_phrase or "error"
    return f"HTTP {response.status_code} {reason}"


def _retry_after(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Parse Retry-After as delta seconds or an HTTP-date; None when missing or unreadable."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - now()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _is_auth_refusal(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code == 403:
        message = _error_message(response).lower()
        return any(hint in message for hint in _AUTH_403_HINTS)
    return False


def _error_for(response: httpx.Response, method: str) -> PlatformError:
    """Map a non-2xx answer to the typed error the sync worker decides on."""
    status = response.status_code
    message = _error_message(response)
    if status == 404:
        return NotFound(message, status=status)
    if status == 409:
        return Conflict(message, status=status)
    if status == 429:
        return RateLimited(message, retry_after=_retry_after(response))
    if status in (401, 403):
        return AuthError(message, status=status)
    if status >= 500:
        write = method != "GET"
        return Unavailable(
            message, status=status, outcome_unknown=write, in_flight=write and status == 504
        )
    # 400, 422 and any other 4xx: the request itself is wrong and repeating it cannot help.
    return ValidationFailed(message, status=status)


def read_timeout(timeout: float, config: Mapping[str, Any]) -> float:
    """Return the client timeout, never longer than the in-flight bound when one is set."""
    bound = inflight_bound(config)
    return min(timeout, bound) if bound > 0 else timeout


class ThingseeClient:
    """Thread-safe Thingsee Open Services client sharing one token and one connection pool."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | httpx.Timeout = 10.0,
        token_ttl: float = 900.0,
        token_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 2,
        retry_backoff: float = 0.2,
    ) -> None:
        if not base_url:
            raise ValueError("a platform base URL is required (PLATFORM_URL)")
        if not client_id or not client_secret:
            raise ValueError("platform client id and secret are required")
        # The apps build URLs as base + "auth/client-token": keep exactly one trailing slash.
        self.base_url = base_url.rstrip("/") + "/"
        self.client_id = client_id
        self._client_secret = client_secret
        self.max_retries = max(int(max_retries), 0)
        self.retry_backoff = max(float(retry_backoff), 0.0)
        if isinstance(timeout, httpx.Timeout):
            timeouts = timeout
        else:
            seconds = float(timeout)
            timeouts = httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds), pool=seconds)
        # No httpx base_url: we join base + path ourselves (as the apps do) and encode the query,
        # so httpx parses each URL once instead of three times; it shows at 32 threads.
        self._http = httpx.Client(
            timeout=timeouts,
            limits=httpx.Limits(
                max_connections=POOL_SIZE,
                max_keepalive_connections=POOL_SIZE,
                keepalive_expiry=30.0,
            ),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            transport=transport,
            follow_redirects=False,
        )
        self._tokens = TokenCache(
            self._fetch_token, ttl=float(token_ttl), margin=float(token_margin), clock=clock
        )
        self._closed = threading.Event()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ThingseeClient:
        """Build a client from PLATFORM_* settings."""
        required = ("PLATFORM_URL", "PLATFORM_CLIENT_ID", "PLATFORM_CLIENT_SECRET")
        missing = [key for key in required if not config.get(key)]
        if missing:
            raise ValueError(f"the Thingsee platform is not configured: set {', '.join(missing)}")
        url, client_id, secret = (str(config[key]) for key in required)
        options: dict[str, Any] = {
            option: float(config[key])
            for key, option in (
                ("PLATFORM_TIMEOUT_S", "timeout"),
                ("PLATFORM_TOKEN_TTL_S", "token_ttl"),
                ("PLATFORM_TOKEN_MARGIN_S", "token_margin"),
            )
            if config.get(key) is not None
        }
        if "timeout" in options:
            options["timeout"] = read_timeout(options["timeout"], config)
        if config.get("PLATFORM_MAX_RETRIES") is not None:
            options["max_retries"] = int(config["PLATFORM_MAX_RETRIES"])
        return cls(url, client_id, secret, **options)

    def __repr__(self) -> str:
        return f"ThingseeClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def __enter__(self) -> ThingseeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections; the client cannot be used afterwards."""
        self._closed.set()
        self._http.close()

    def token_requests(self) -> int:
        """Return how many tokens this client has requested."""
        return self._tokens.requests

    # ---- devices -------------------------------------------------------------------------

    def get_thing(self, tuid: str) -> ThingInfo:
        """Return what the platform knows about a device; every field may be missing."""
        data = self._expect_dict(self._get(f"things/{_segment(tuid, 'tuid')}"))
        location = data.get("location")
        location = location if isinstance(location, dict) else {}
        return ThingInfo(
            tuid=tuid,
            battery_level=_int_or_none(data.get("battery_level")),
            timestamp=_int_or_none(data.get("timestamp")),
            lat=_float_or_none(location.get("lat")),
            lon=_float_or_none(location.get("lon")),
            gateway_tuid=_str_or_none(data.get("gateway_tuid")),
            version=_str_or_none(data.get("version")),
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
        if status not in INSTALLATION_STATUSES:
            raise ValidationFailed(
                f"installation_status must be one of {', '.join(INSTALLATION_STATUSES)}; "
                f"got {status!r}"
            )
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
        path = f"things/{_segment(tuid, 'tuid')}/group"
        data = self._post(path, {"group_id": group_id})
        if data is None:
            return group_id
        return self._expect_str(self._expect_dict(data).get("group_id", group_id), "group_id")

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
                    description=_str_or_none(item.get("group_description")),
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
            description=_str_or_none(data.get("group_description", description)),
        )

    def rename_group(self, group_id: str, new_group_id: str) -> str:
        """Rename a deployment group (its members move with it); return the new id."""
        _check_group_id(new_group_id, allow_unassigned=False)
        path = f"groups/{_segment(group_id, 'group_id')}/rename"
        data = self._post(path, {"group_id": new_group_id})
        if data is None:
            return new_group_id
        return self._expect_str(self._expect_dict(data).get("group_id", new_group_id), "group_id")

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
        count = _int_or_none(data.get("alert_count"))
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
                periods.append((start, _str_or_none(period.get("to"))))
            result.append(
                ThingAlerts(
                    tuid=_str_or_none(item.get("tuid")) or tuid,
                    alert_type=_str_or_none(item.get("alert_type")) or "",
                    periods=periods,
                )
            )
        return result

    # ---- transport -----------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET with bounded retries on Unavailable (reads are safe to repeat)."""
        attempt = 0
        while True:
            try:
                return self._send_json("GET", path, params=params)
            except Unavailable as exc:
                if attempt >= self.max_retries or self._closed.is_set():
                    raise
                delay = min(self.retry_backoff * 2**attempt, BACKOFF_CAP_S)
                log.debug("platform GET %s unavailable (%s); retry in %.2f s", path, exc, delay)
                attempt += 1
                time.sleep(delay)

    def _post(self, path: str, body: Any) -> Any:
        """POST once: the caller decides whether and how to retry a write."""
        return self._send_json("POST", path, body=body)

    def _send_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Send with the cached token, refreshing and replaying once if the token is refused."""
        content = None if body is None else json.dumps(body).encode("utf-8")
        token = self._tokens.current()
        response = self._send(method, path, token, params, content)
        if _is_auth_refusal(response):
            log.info(
                "platform refused the token (HTTP %s) on %s %s; refreshing once",
                response.status_code,
                method,
                path,
            )
            token = self._tokens.replace(token)
            response = self._send(method, path, token, params, content)
            if _is_auth_refusal(response):
                raise AuthError(
                    f"the platform refused a fresh token: {_error_message(response)}",
                    status=response.status_code,
                )
        return self._read_data(response, method)

    def _send(
        self,
        method: str,
        path: str,
        token: BearerToken,
        params: Mapping[str, Any] | None,
        content: bytes | None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token.value}"}
        if content is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise self._transport_error(method, path, exc, is_write=method != "GET") from None
        log.debug(
            "platform %s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    @staticmethod
    def _transport_error(
        method: str, path: str, exc: httpx.HTTPError, *, is_write: bool
    ) -> Unavailable:
        """Wrap a network failure; a write's outcome is unknown once bytes may have left."""
        may_have_arrived = is_write and not isinstance(exc, _NOT_SENT)
        kind = type(exc).__name__
        log.warning("platform %s %s failed: %s", method, path, kind)
        return Unavailable(
            f"{kind} talking to the platform ({method} {path})",
            outcome_unknown=may_have_arrived,
            in_flight=may_have_arrived,
        )

    @staticmethod
    def _read_data(response: httpx.Response, method: str) -> Any:
        """Return `data` from a 2xx body, or raise the typed error for anything else."""
        if not response.is_success:
            raise _error_for(response, method)
        if response.status_code == 204 or (response.status_code != 200 and not response.content):
            return None
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"HTTP {response.status_code} with a body that is not JSON "
                f"({len(response.content)} bytes)",
                status=response.status_code,
            ) from None
        if not isinstance(body, dict) or "data" not in body:
            raise MalformedResponse(
                f"HTTP {response.status_code} without a 'data' member", status=response.status_code
            )
        return body["data"]

    def _fetch_token(self) -> str:
        """POST the client credentials for a new token; called under the token lock."""
        body = {"client_id": self.client_id, "client_secret": self._client_secret}
        content = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": JSON_CONTENT_TYPE}
        response = None
        for attempt in range(2):
            try:
                response = self._http.post(
                    self.base_url + TOKEN_PATH, content=content, headers=headers
                )
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt == 1:
                    raise self._transport_error("POST", TOKEN_PATH, exc, is_write=False) from None
                log.debug("platform token request could not connect; trying once more")
            except httpx.HTTPError as exc:
                # Asking for a token changes nothing we care about: its outcome is not "unknown".
                raise self._transport_error("POST", TOKEN_PATH, exc, is_write=False) from None
        assert response is not None
        log.info(
            "platform token requested (#%d): HTTP %s", self._tokens.requests, response.status_code
        )
        if response.status_code in (400, 401, 403):
            # Should the platform ever echo what it was sent, keep the secret out of our errors.
            message = _error_message(response).replace(self._client_secret, "***")
            raise AuthError(
                f"the platform refused the client credentials: {message}",
                status=response.status_code,
            )
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
            tuid=_str_or_none(item.get("tuid")) or tuid,
            installation_status=status,
            timestamp=_int_or_none(item.get("timestamp")),
            responsible=_str_or_none(item.get("responsible")),
        )

    @staticmethod
    def _expect_dict(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise MalformedResponse(f"expected an object, got {type(value).__name__}")
        return value

    @staticmethod
    def _expect_list(value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedResponse(f"expected a list, got {type(value).__name__}")
        return value

    @staticmethod
    def _expect_str(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise MalformedResponse(f"{name} is not a string: {type(value).__name__}")
        return value
