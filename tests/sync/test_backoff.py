"""The worker's backoff: capped, jittered, never sooner than the platform asked."""

from __future__ import annotations

import random

from app.sync.backoff import Backoff


def test_waits_double_up_to_the_cap_with_jitter_below_each_step() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        assert full / 2 <= backoff.delay(attempt) <= full


def test_a_wait_may_lower_the_cap_but_never_raise_it() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    assert backoff.delay(9, cap=2.0) <= 2.0
    assert backoff.delay(9, cap=100.0) <= 8.0


def test_never_sooner_than_retry_after() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    assert backoff.delay(1, retry_after=30.0) >= 30.0
