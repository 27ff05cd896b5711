"""The rate governor (429s) and the outage breaker, on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from app.platform.errors import RateLimited
from app.sync.breaker import DEVICES_TO_OPEN, FAILURES_TO_OPEN, MAX_PROBE_INTERVAL_S, Breaker
from app.sync.pacing import GovernedPlatform, RateGovernor


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _serve(governor: RateGovernor, clock: Clock, calls: int, every: float) -> None:
    for _ in range(calls):
        governor.acquire()
        governor.succeeded()
        clock.now += every


def test_calls_are_not_paced_until_the_platform_refuses_one() -> None:
    clock = Clock()
    governor = RateGovernor(clock, clock.sleep)
    _serve(governor, clock, 300, 0.001)
    assert governor.rate is None and clock.slept == []


def test_a_429_sets_a_rate_under_what_was_served_and_paces_calls_to_it() -> None:
    clock = Clock()
    governor = RateGovernor(clock, clock.sleep)
    _serve(governor, clock, 300, 1 / 300)  # 300 calls/s
    governor.refused(retry_after=1.0)
    assert governor.rate == pytest.approx(0.85 * 300, rel=0.02)

    started = clock.now
    for _ in range(50):
        governor.acquire()
    # 50 call starts spread at the learned rate, not at once.
    assert clock.now - started == pytest.approx(49 / governor.rate, rel=0.05)


def test_refusals_in_one_burst_slow_down_once_then_each_burst_again() -> None:
    clock = Clock()
    governor = RateGovernor(clock, clock.sleep)
    _serve(governor, clock, 200, 0.005)
    for _ in range(10):
        governor.refused(None)
    first = governor.rate
    assert first is not None
    clock.now += 0.3
    governor.refused(None)
    assert governor.rate == pytest.approx(first * 0.85)


def test_the_rate_grows_back_and_the_limit_is_dropped_after_quiet() -> None:
    clock = Clock()
    governor = RateGovernor(clock, clock.sleep)
    _serve(governor, clock, 100, 0.01)
    governor.refused(None)
    low = governor.rate
    assert low is not None
    _serve(governor, clock, 100, 0.0)
    assert governor.rate == pytest.approx(low + 100 * 0.05)
    clock.now += 31
    _serve(governor, clock, 1, 0.0)
    assert governor.rate is None


def test_a_long_retry_after_pauses_every_call() -> None:
    clock = Clock()
    governor = RateGovernor(clock, clock.sleep)
    governor.refused(retry_after=20.0)
    governor.acquire()
    assert clock.slept and clock.slept[0] == pytest.approx(20.0)


def test_the_governed_platform_reports_refusals_and_successes() -> None:
    class Platform:
        def get_group(self, tuid: str) -> str:
            if tuid == "limited":
                raise RateLimited("slow down", retry_after=1.0)
            return "g"

    clock = Clock()
    governor = RateGovernor(clock, clock.sleep)
    platform = GovernedPlatform(Platform(), governor)
    assert platform.get_group("a") == "g"
    with pytest.raises(RateLimited):
        platform.get_group("limited")
    assert governor.rate_limited == 1
    assert governor.rate is not None


def test_the_breaker_opens_only_on_failures_across_devices() -> None:
    clock = Clock()
    breaker = Breaker(clock)
    for _ in range(FAILURES_TO_OPEN * 2):
        breaker.failed("one-device")  # one device's trouble is not an outage
    assert not breaker.is_open
    breaker.answered()
    for i in range(FAILURES_TO_OPEN - 1):
        breaker.failed(f"device{i}")
    breaker.answered()  # an answer in between: not "in a row"
    for i in range(FAILURES_TO_OPEN):
        breaker.failed(f"device{i % DEVICES_TO_OPEN}")
    assert breaker.is_open


def test_an_open_breaker_probes_ever_less_often_and_closes_on_an_answer() -> None:
    clock = Clock()
    breaker = Breaker(clock)
    for i in range(FAILURES_TO_OPEN):
        breaker.failed(f"device{i}")
    assert not breaker.probe_due()
    intervals = []
    for _ in range(5):
        started = clock.now
        while not breaker.probe_due():
            clock.now += 0.05
        intervals.append(clock.now - started)
        breaker.probe_started()
        assert not breaker.probe_due()
        breaker.probe_failed()
    assert intervals[0] == pytest.approx(0.5, abs=0.06)
    assert max(intervals) == pytest.approx(MAX_PROBE_INTERVAL_S, abs=0.06)
    assert breaker.probe_answered() is True
    assert not breaker.is_open
    assert breaker.answered() is False
