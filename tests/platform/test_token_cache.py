"""The single-flight token cache on its own, with a controlled clock and fetch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.platform.errors import AuthError, Unavailable
from app.platform.tokens import TokenCache
from tests.platform.harness import ManualClock


class SlowFetch:
    """A token fetch that blocks until released, counting calls; optionally fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.error = error
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            n = self.calls
        self.started.set()
        assert self.release.wait(timeout=10)
        if self.error is not None:
            raise self.error
        return f"token-{n}"


def _cache(fetch: SlowFetch, clock: ManualClock) -> TokenCache:
    return TokenCache(fetch, ttl=900, margin=60, clock=clock)


def test_fresh_token_is_reused_until_ttl_minus_margin() -> None:
    fetch, clock = SlowFetch(), ManualClock()
    fetch.release.set()
    cache = _cache(fetch, clock)
    first = cache.current()
    clock.advance(839.9)
    assert cache.current() is first
    clock.advance(0.1)  # exactly ttl - margin old: refresh
    second = cache.current()
    assert (first.value, second.value) == ("token-1", "token-2")
    assert second.generation == first.generation + 1
    assert cache.requests == fetch.calls == 2


def test_waiting_threads_reuse_the_one_fetched_token() -> None:
    fetch, clock = SlowFetch(), ManualClock()
    cache = _cache(fetch, clock)
    with ThreadPoolExecutor(32) as pool:
        futures = [pool.submit(cache.current) for _ in range(32)]
        assert fetch.started.wait(timeout=5)
        fetch.release.set()
        values = {f.result(timeout=10).value for f in futures}
    assert values == {"token-1"}
    assert fetch.calls == 1


def test_waiting_threads_share_a_failed_fetch() -> None:
    fetch, clock = SlowFetch(AuthError("bad credentials", status=401)), ManualClock()
    cache = _cache(fetch, clock)
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(cache.current) for _ in range(16)]
        assert fetch.started.wait(timeout=5)
        # Let the others queue on the lock before the fetch fails.
        threading.Event().wait(0.2)
        fetch.release.set()
        errors = [f.exception(timeout=10) for f in futures]
    assert all(isinstance(e, AuthError) and e.status == 401 for e in errors)
    assert fetch.calls == 1
    # A later call tries again rather than remembering the failure forever.
    fetch.error = None
    assert cache.current().value == "token-2"


def test_failed_fetch_copies_keep_their_type_and_fields() -> None:
    fetch = SlowFetch(Unavailable("down", status=503, outcome_unknown=False))
    fetch.release.set()
    cache = _cache(fetch, ManualClock())
    with pytest.raises(Unavailable) as caught:
        cache.current()
    assert caught.value.status == 503


def test_replace_reuses_a_token_fetched_since_the_refused_one() -> None:
    fetch, clock = SlowFetch(), ManualClock()
    fetch.release.set()
    cache = _cache(fetch, clock)
    old = cache.current()
    newer = cache.replace(old)  # first refusal: fetch
    assert newer.value == "token-2"
    assert cache.replace(old) is newer  # a second thread refused with the old token: reuse
    assert fetch.calls == 2
    assert cache.replace(newer).value == "token-3"  # the new one refused too: fetch again


def test_repr_hides_the_token() -> None:
    fetch = SlowFetch()
    fetch.release.set()
    cache = _cache(fetch, ManualClock())
    token = cache.current()
    assert "token-1" not in repr(cache)
    assert "token-1" not in repr(token)
