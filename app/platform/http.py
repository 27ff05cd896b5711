"""The HTTP plumbing every platform adapter shares: one pooled httpx client, explicit timeouts,
a single-flight token cache, optional pacing under a documented rate limit, GET-only retries,
one refresh-and-replay after a refused token, and typed errors.

Why synchronous: the sync worker is a thread pool (16-32 threads) whose database side uses
SQLAlchemy sync sessions, and the web process calls the platform from ordinary Flask views. One
`httpx.Client` is thread-safe and pools keep-alive connections, so every thread shares it; the
concurrency we need and per-device ordering (decided by the worker's claims, not here) do not
need an event loop, and an async client would only add a loop-in-a-thread bridge.

Retry policy, deliberately small because the sync worker owns retries:
- GETs are safe to repeat: they retry on Unavailable up to `max_retries` times, sleeping
  `retry_backoff * 2**n` seconds (capped at 2 s) between tries.
- Writes are never retried here. After an unknown outcome only the worker can decide, by reading
  the platform first (verify-then-retry), whether to write again.
- 429 is never retried here: RateLimited goes up so the worker can honour Retry-After.
- A refused token is the one exception for writes: the platform refused the request before it
  acted on it, so replaying it once with a fresh token cannot apply it twice.
- The token request retries a connect error once (nothing reached the server).

`Unavailable.outcome_unknown` is True when a write may have reached the platform (read/write
timeouts, dropped connections, 5xx answers to writes) and False when it cannot have (connect
errors and timeouts, no free pooled connection, GETs). `Unavailable.in_flight` says the write
may also still land later: read/write timeouts, dropped connections and 504 (the gateway stopped
waiting; its integration may still run). Such a write can land until the platform's in-flight
bound (PLATFORM_INFLIGHT_BOUND_S, API Gateway's 29 s integration timeout) has passed since it
was sent; the sync worker verifies it only then. Secrets and tokens are never logged,
never in a repr and never in an exception message.

Each adapter subclasses `HttpPlatform` and says how its platform differs: how a token is
fetched (`_request_token`) and sent (`_auth_headers`), how a refused token looks
(`_is_token_refusal`), how errors map (`_error_for`) and how a success body unwraps
(`_unwrap`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from app.platform.capabilities import Capabilities, PlatformProfile
from app.platform.errors import (
    AuthError,
    Conflict,
    MalformedResponse,
    NotFound,
    NotSupported,
    PlatformError,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from app.platform.pacing import RequestPacer
from app.platform.shapes import error_message, retry_after
from app.platform.tokens import FetchedToken, TokenCache

log = logging.getLogger("app.platform")

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
POOL_SIZE = 64  # at least twice the sync worker's largest thread pool
CONNECT_TIMEOUT_S = 5.0
BACKOFF_CAP_S = 2.0

# Raised before any byte of the request can have reached the platform.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.LocalProtocolError)


def build_timeouts(timeout: float | httpx.Timeout) -> httpx.Timeout:
    """Return httpx timeouts: `timeout` for read, write and pool, at most 5 s to connect."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = float(timeout)
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds), pool=seconds)


def http_error_for(response: httpx.Response, method: str, message: str) -> PlatformError:
    """Map an HTTP status to the typed error the sync worker decides on."""
    status = response.status_code
    if status == 404:
        return NotFound(message, status=status)
    if status == 409:
        return Conflict(message, status=status)
    if status == 429:
        return RateLimited(message, retry_after=retry_after(response))
    if status in (401, 403):
        return AuthError(message, status=status)
    if status >= 500:
        write = method != "GET"
        # 504: the gateway stopped waiting, its integration may still be running the write.
        return Unavailable(
            message, status=status, outcome_unknown=write, in_flight=write and status == 504
        )
    # 400, 422 and any other 4xx: the request itself is wrong and repeating it cannot help.
    return ValidationFailed(message, status=status)


def inflight_bound(config: Mapping[str, Any]) -> float:
    """Return how long after it was sent a write may still land (PLATFORM_INFLIGHT_BOUND_S)."""
    return max(float(config.get("PLATFORM_INFLIGHT_BOUND_S") or 0.0), 0.0)


def client_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the HttpPlatform options set by PLATFORM_* settings (unset ones keep defaults).

    The read timeout is never longer than the in-flight bound: past it the gateway has answered
    504 anyway, and the worker's wait before verifying an unknown outcome assumes it.
    """
    options: dict[str, Any] = {
        option: float(config[key])
        for key, option in (
            ("PLATFORM_TIMEOUT_S", "timeout"),
            ("PLATFORM_TOKEN_TTL_S", "token_ttl"),
            ("PLATFORM_TOKEN_MARGIN_S", "token_margin"),
            ("PLATFORM_RATE_LIMIT", "rate_limit"),
        )
        if config.get(key) is not None
    }
    if config.get("PLATFORM_MAX_RETRIES") is not None:
        options["max_retries"] = int(config["PLATFORM_MAX_RETRIES"])
    bound = inflight_bound(config)
    if "timeout" in options and bound > 0:
        options["timeout"] = min(options["timeout"], bound)
    return options


class HttpPlatform:
    """Thread-safe base of the platform clients: one token and one connection pool per client."""

    profile: PlatformProfile
    user_agent = "fieldhand/1"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout = 10.0,
        token_ttl: float | None = None,
        token_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = 2,
        retry_backoff: float = 0.2,
        rate_limit: float | None = None,
        static_token: str | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("a platform base URL is required (PLATFORM_URL)")
        # URLs are base + relative path, as the vendors' own apps build them: one trailing slash.
        self.base_url = base_url.rstrip("/") + "/"
        self.max_retries = max(int(max_retries), 0)
        self.retry_backoff = max(float(retry_backoff), 0.0)
        # No httpx base_url: we join base + path ourselves and encode the query, so httpx parses
        # each URL once instead of three times; it shows at 32 threads.
        self._http = httpx.Client(
            timeout=build_timeouts(timeout),
            limits=httpx.Limits(
                max_connections=POOL_SIZE,
                max_keepalive_connections=POOL_SIZE,
                keepalive_expiry=30.0,
            ),
            headers={"Accept": "application/json", "User-Agent": self.user_agent},
            transport=transport,
            follow_redirects=False,
        )
        # A static key (an API key or API token) never expires on its own and cannot be
        # refreshed: a refusal means an admin reset it, so it is an AuthError at once.
        self._static_token = static_token
        self._tokens = TokenCache(
            self._fetch_token,
            ttl=self.profile.token_ttl if token_ttl is None else float(token_ttl),
            margin=float(token_margin),
            clock=clock,
        )
        # None: pace to the platform's documented limit (ThingScale: 20/s); 0 turns pacing off.
        rate = self.profile.rate_limit if rate_limit is None else float(rate_limit)
        self._pacer = RequestPacer(rate) if rate > 0 else None
        self._closed = threading.Event()

    def __enter__(self) -> HttpPlatform:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def capabilities(self) -> Capabilities:
        """Return what this platform can do."""
        return self.profile.capabilities

    def close(self) -> None:
        """Close the pooled connections; the client cannot be used afterwards."""
        self._closed.set()
        self._http.close()

    def token_requests(self) -> int:
        """Return how many tokens this client has requested (0 with a static key)."""
        return 0 if self._static_token is not None else self._tokens.requests

    def _unsupported(self, what: str) -> NotSupported:
        """Build the error for a call this platform has no equivalent of."""
        return NotSupported(f"{self.profile.title} has no {what}")

    # ---- what each platform says differently ---------------------------------------------

    def _request_token(self) -> str | FetchedToken:
        """Fetch a new token from the platform (called under the token lock)."""
        raise NotImplementedError

    def _auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _is_token_refusal(self, response: httpx.Response) -> bool:
        """Say whether the platform refused the token itself (refresh once and replay)."""
        return response.status_code == 401

    def _error_for(self, response: httpx.Response, method: str) -> PlatformError:
        return http_error_for(response, method, error_message(response))

    def _unwrap(self, response: httpx.Response, body: Any) -> Any:
        """Return the payload of a 2xx JSON body (default: the body itself)."""
        return body

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
        """Send with the current token, refreshing and replaying once if the token is refused."""
        content = None if body is None else json.dumps(body).encode("utf-8")
        static = self._static_token
        token = None if static is not None else self._tokens.current()
        value = static if token is None else token.value
        response = self._send(method, path, str(value), params, content)
        if token is not None and self._is_token_refusal(response):
            log.info(
                "platform refused the token (HTTP %s) on %s %s; refreshing once",
                response.status_code,
                method,
                path,
            )
            token = self._tokens.replace(token)
            response = self._send(method, path, token.value, params, content)
        if self._is_token_refusal(response):
            # A fixed key cannot be refreshed: an admin reset it, so there is nothing to replay.
            what = "the configured key" if static is not None else "a fresh token"
            raise AuthError(
                f"the platform refused {what}: {error_message(response)}",
                status=response.status_code,
            )
        return self._read_data(response, method)

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
    ) -> httpx.Response:
        headers = self._auth_headers(token)
        if content is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        if self._pacer is not None:
            self._pacer.acquire()
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

    def _read_data(self, response: httpx.Response, method: str) -> Any:
        """Return the payload of a 2xx answer, or raise the typed error for anything else."""
        if not response.is_success:
            raise self._error_for(response, method)
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
        return self._unwrap(response, body)

    def _fetch_token(self) -> str | FetchedToken:
        if self._pacer is not None:
            self._pacer.acquire()
        return self._request_token()

    def _post_for_token(self, path: str, body: Mapping[str, Any]) -> httpx.Response:
        """POST credentials, retrying a connect error once (nothing reached the server)."""
        content = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": JSON_CONTENT_TYPE}
        for attempt in range(2):
            try:
                response = self._http.post(self.base_url + path, content=content, headers=headers)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt == 1:
                    raise self._transport_error("POST", path, exc, is_write=False) from None
                log.debug("platform token request could not connect; trying once more")
            except httpx.HTTPError as exc:
                # Asking for a token changes nothing we care about: its outcome is not "unknown".
                raise self._transport_error("POST", path, exc, is_write=False) from None
        log.info(
            "platform token requested (#%d): HTTP %s", self._tokens.requests, response.status_code
        )
        return response

    def _credentials_refused(
        self, response: httpx.Response, secret: str, what: str = "credentials"
    ) -> AuthError:
        """Build the AuthError for refused credentials, with the secret kept out of it."""
        message = error_message(response)
        if secret:
            # Should the platform ever echo what it was sent, keep the secret out of our errors.
            message = message.replace(secret, "***")
        return AuthError(f"the platform refused the {what}: {message}", status=response.status_code)
