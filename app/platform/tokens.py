"""A cached bearer token with single-flight refresh, shared by every thread of one client.

The Thingsee spec gives no expiry with the token, only a documented 15 minute lifetime, so the
cache keeps the monotonic time it fetched the token at and refreshes before use once the token
is `ttl - margin` old. A platform that says how long each token lives (thingsHub's session
`expires`) returns a `FetchedToken` with that lifetime instead of a bare string.

Any number of threads may find it stale at once; one lock makes exactly
one of them fetch, and the others reuse what it fetched (double-checked locking). A failed fetch
is handed to the threads that were waiting for it too, so bad credentials cost one request, not
one per thread.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from app.platform.errors import PlatformError


@dataclass(frozen=True)
class FetchedToken:
    """What a fetch may return instead of a bare string: the token and its own lifetime."""

    value: str = field(repr=False)
    ttl: float | None = None  # seconds; None: the cache's configured lifetime


@dataclass(frozen=True)
class BearerToken:
    """One fetched token; `generation` tells a token from the one that replaced it."""

    value: str = field(repr=False)  # never in a repr, a log line or an exception
    issued_at: float  # monotonic seconds
    generation: int
    refresh_after: float = float("inf")  # age in seconds at which it is no longer fresh


class TokenCache:
    """Hand out a fresh-enough token, fetching one under a single-flight lock when needed."""

    def __init__(
        self,
        fetch: Callable[[], str | FetchedToken],
        *,
        ttl: float,
        margin: float,
        clock: Callable[[], float],
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._refresh_after = max(ttl - margin, 0.0)
        self._clock = clock
        self._lock = threading.Lock()
        self._token: BearerToken | None = None
        self._requests = 0
        self._generation = 0
        # Fetches finished so far, and (finish number, error) of the latest failed one: a thread
        # that waited on the lock while that fetch ran gets its error instead of trying again.
        self._finished = 0
        self._failure: tuple[int, PlatformError] | None = None

    def __repr__(self) -> str:
        token = self._token
        return f"TokenCache(generation={token.generation if token else 0})"

    @property
    def requests(self) -> int:
        """How many token fetches were started."""
        return self._requests

    def current(self) -> BearerToken:
        """Return a token younger than `ttl - margin`, fetching one if there is none."""
        token = self._token  # one reference read: no lock on the hot path
        if token is not None and self._is_fresh(token):
            return token
        finished_seen = self._finished
        with self._lock:
            token = self._token
            if token is not None and self._is_fresh(token):
                return token  # another thread fetched while we waited
            self._raise_failure_since(finished_seen)
            return self._fetch_locked()

    def replace(self, rejected: BearerToken) -> BearerToken:
        """Return a token newer than the refused `rejected`, fetching at most once."""
        finished_seen = self._finished
        with self._lock:
            token = self._token
            fresher = token is not None and token.generation > rejected.generation
            if token is not None and fresher and self._is_fresh(token):
                return token  # someone refreshed after our request's token was issued
            self._raise_failure_since(finished_seen)
            return self._fetch_locked()

    def clear(self) -> None:
        """Forget the cached token so the next call fetches a new one."""
        with self._lock:
            self._token = None

    def _is_fresh(self, token: BearerToken) -> bool:
        return self._clock() - token.issued_at < token.refresh_after

    def _raise_failure_since(self, finished_seen: int) -> None:
        failure = self._failure
        if failure is not None and failure[0] > finished_seen:
            # The fetch this thread was waiting for failed: share its verdict, don't repeat it.
            raise copy.copy(failure[1])

    def _fetch_locked(self) -> BearerToken:
        self._requests += 1
        # Taken before the request: the platform's clock started no earlier, so we refresh early.
        issued_at = self._clock()
        try:
            fetched = self._fetch()
        except PlatformError as exc:
            self._finished += 1
            self._failure = (self._finished, exc)
            raise
        self._finished += 1
        self._generation += 1
        if isinstance(fetched, str):
            fetched = FetchedToken(fetched)
        refresh_after = self._refresh_after
        if fetched.ttl is not None:
            refresh_after = max(fetched.ttl - self._margin, 0.0)
        token = BearerToken(fetched.value, issued_at, self._generation, refresh_after)
        self._token = token
        self._failure = None
        return token
