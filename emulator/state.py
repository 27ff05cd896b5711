"""The emulator's configuration and its in-memory, thread-safe state: the sandbox's switches
(settings, tokens, faults, the call log) here, the platform's records in emulator.fleet."""

from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from .calls import Call, CallLog
from .clock import EmulatorClock
from .devices import Device
from .errors import ApiError, BadRequest, Unauthorized
from .faults import RANDOM_FAULT_STATUSES, ScriptedFault, request_delay_ms
from .fleet import Fleet
from .ratelimit import RateLimiter
from .settings import live_settings_json, parse_setting_changes
from .tokens import TokenRefused, TokenStore, bearer_token
from .tuids import TUID_PATTERN, random_tuid


@dataclass
class EmulatorConfig:
    """How an emulator starts; everything but credentials, devices and seed can change live."""

    client_id: str = "fieldhand-sandbox"
    client_secret: str | None = None  # None: a random secret is generated at start
    token_ttl: float = 900.0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0  # added uniformly in [0, jitter_ms]
    fail_rate: float = 0.0  # share of API requests answered 500/502/504
    rate_limit: float = 0.0  # requests per second per credential; 0 turns it off
    devices: int = 0  # devices seeded at start and again on reset
    seed: int | None = None
    auth_failure_status: int = 401  # 403 imitates API Gateway's authorizer (spec §1)
    read_lag_s: float = 0.0  # writes to status and group become visible this much later
    message_limit_cap: int = 1000
    command_allowlist: tuple[int, ...] = (1500, 1501, 12200, 13200)
    delete_nonempty_group_conflict: bool = False
    strict_group_naming: bool = False
    heartbeat_missed_after_s: float = 2 * 3600.0
    stall_ms: float = 0.0  # extra delay so clients can hit their timeouts; writes still apply
    stall_paths: tuple[str, ...] = ()  # stall only paths containing one of these; () = all
    stall_methods: tuple[str, ...] = ()  # stall only these methods, e.g. ("POST",); () = all
    stall_share: float = 1.0  # share of matching requests that stall
    outage: str = ""  # "drop": close API connections unanswered; "503": answer 503; "" = none
    offline_share: float = 0.0  # share of seeded devices that start silent, with an alert


class EmulatorState(Fleet):
    """Devices, groups, tokens, faults and the call log behind one lock.

    The lock is never held while a request sleeps for latency, so concurrent requests overlap.
    The other platforms' modes (emulator.platforms) reuse it with their own device ids.
    """

    id_pattern = TUID_PATTERN
    id_name = "TUID (17 uppercase alphanumerics)"

    def __init__(self, config: EmulatorConfig, clock: EmulatorClock | None = None) -> None:
        secret = config.client_secret or secrets.token_urlsafe(24)
        self.initial_config = replace(config, client_secret=secret)
        self.clock = clock or EmulatorClock()
        # Buckets refill on the emulator's clock, so tests advance it instead of sleeping.
        self.rate_limiter = RateLimiter(monotonic=self.clock.now)
        self._lock = threading.RLock()
        self._tokens = TokenStore()
        self._calls = CallLog()
        self._load_initial()

    # --- lifecycle and settings -------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self.initial_config.client_id

    @property
    def client_secret(self) -> str:
        assert self.initial_config.client_secret is not None
        return self.initial_config.client_secret

    def reset(self) -> None:
        """Go back to the start: seeded devices only, no tokens or calls, start settings."""
        with self._lock:
            self.clock.reset()
            self._tokens.clear()
            self._calls.clear()
            self._load_initial()

    def _load_initial(self) -> None:
        with self._lock:
            config = self.initial_config
            self.settings = config
            self.rate_limiter.set_rate(config.rate_limit)
            self._fail_next: list[ScriptedFault] = []
            self._fail_next_after_apply: list[ScriptedFault] = []
            seed = config.seed
            self._rng = random.Random(seed)
            # Faults and latency draw from their own generator so request timing never changes
            # which devices a seed produces.
            self._fault_rng = random.Random(None if seed is None else f"faults-{seed}")
            self._devices: dict[str, Device] = {}
            self._groups: dict[str, str | None] = {}
            self._fleet_gateway = "TSGW01" + random_tuid(self._rng)[6:]
            self._requests = 0
            self._token_requests = 0
            self._tokens_issued = 0
            self._installations_posted: Counter[str] = Counter()
            if config.devices:
                self.add_devices(count=config.devices, offline_share=config.offline_share)

    def settings_snapshot(self) -> dict[str, Any]:
        """Return the live settings, including the scripted faults still queued."""
        with self._lock:
            return live_settings_json(
                self.settings,
                fail_next=self._fail_next,
                fail_next_after_apply=self._fail_next_after_apply,
            )

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change live settings (latency, faults, limits...); raise BadRequest on a bad value."""
        try:
            plain, queues = parse_setting_changes(changes)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        with self._lock:
            self.settings = replace(self.settings, **plain)
            if "rate_limit" in plain:
                self.rate_limiter.set_rate(plain["rate_limit"])
            if "fail_next" in queues:
                self._fail_next = queues["fail_next"]
            if "fail_next_after_apply" in queues:
                self._fail_next_after_apply = queues["fail_next_after_apply"]
            return self.settings_snapshot()

    def advance(self, seconds: float) -> float:
        """Move emulator time forward and return the new Unix time."""
        return self.clock.advance(seconds)

    # --- request plumbing used by the WSGI app ----------------------------------------------

    def delay_s(self, path: str, method: str = "GET") -> float:
        """Pick this request's latency: base plus uniform jitter, plus any stall for it.

        The request sleeps before it is applied, so a write stalled past the client's timeout
        still lands afterwards, as a slow Lambda behind API Gateway does.
        """
        with self._lock:
            return request_delay_ms(self.settings, self._fault_rng, method, path) / 1000.0

    def credential_for(self, authorization: str | None) -> str | None:
        """Return the client id behind a bearer header, even if expired, for rate limiting."""
        try:
            token = bearer_token(authorization)
        except TokenRefused:
            return None
        with self._lock:
            return self._tokens.owner(token)

    def authenticate(self, authorization: str | None, at: float | None = None) -> str:
        """Return the client id for a token valid at `at` (default now), else raise 401/403.

        The gateway authorises a request when it arrives; a slow backend behind it still applies
        a write whose token expired meanwhile, so callers pass the arrival time.
        """
        with self._lock:
            when = self.clock.now() if at is None else at
            try:
                return self._tokens.check(authorization, when).client_id
            except TokenRefused as refused:
                status = self.settings.auth_failure_status
                message = refused.problem.value
                if status == 403:
                    # Clients recognise API Gateway's 403 as a token problem by this wording.
                    message = f"Not authorized: {message}"
                raise ApiError(message, status=status) from None

    def take_scripted_fault(self, method: str, path: str, *, after_apply: bool) -> int | None:
        """Pop the first queued fault that applies to this request; return its status."""
        with self._lock:
            queue = self._fail_next_after_apply if after_apply else self._fail_next
            for index, fault in enumerate(queue):
                if fault.matches(method, path):
                    del queue[index]
                    return fault.status
            return None

    def random_fault(self) -> int | None:
        """Return 500, 502 or 504 for a share `fail_rate` of requests, else None."""
        rate = self.settings.fail_rate
        if rate <= 0:
            return None
        with self._lock:
            if self._fault_rng.random() >= rate:
                return None
            return self._fault_rng.choice(RANDOM_FAULT_STATUSES)

    def record_call(
        self,
        *,
        time: float,
        method: str,
        path: str,
        query: str,
        status: int,
        client_id: str | None,
        fault: str | None,
    ) -> Call:
        """Log one answered API request."""
        with self._lock:
            self._requests += 1
            return self._calls.append(
                time=time,
                method=method,
                path=path,
                query=query,
                status=status,
                client_id=client_id,
                fault=fault,
            )

    @property
    def call_log(self) -> list[Call]:
        """Return every logged API call, oldest first."""
        return self.calls_since(0)

    def calls_since(self, since_id: int = 0) -> list[Call]:
        """Return logged calls with an id above `since_id`."""
        with self._lock:
            return self._calls.since(since_id)

    def clear_calls(self) -> None:
        """Empty the call log."""
        with self._lock:
            self._calls.clear()

    def stats(self) -> dict[str, Any]:
        """Count requests, token requests and installation writes per TUID."""
        with self._lock:
            return {
                "requests": self._requests,
                "token_requests": self._token_requests,
                "tokens_issued": self._tokens_issued,
                "installations_by_tuid": dict(self._installations_posted),
                "devices": len(self._devices),
                "groups": len(self._groups),
            }

    # --- tokens -----------------------------------------------------------------------------

    def issue_token(self, client_id: Any, client_secret: Any) -> str:
        """Check the credentials and return a new token (spec §1)."""
        with self._lock:
            self._token_requests += 1
            if not isinstance(client_id, str) or not isinstance(client_secret, str):
                raise BadRequest("client_id and client_secret are required")
            if not (
                secrets.compare_digest(client_id, self.client_id)
                and secrets.compare_digest(client_secret, self.client_secret)
            ):
                raise Unauthorized("Invalid client credentials")
            self._tokens_issued += 1
            return self._tokens.issue(client_id, self.clock.now(), self.settings.token_ttl)
