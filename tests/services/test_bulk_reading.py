"""Reading many devices for a bulk dry run: stopping, rate-limit backoff, with no real waits."""

from __future__ import annotations

import random
import threading

import pytest

from app.platform import errors as platform_errors
from app.services.bulk.reading import (
    RATE_LIMIT_TRIES,
    RATE_LIMIT_WAIT_CAP_S,
    CheckStopped,
    Pacing,
    read_devices,
)

TUIDS = [f"TSPR04EZU3190{n:04d}" for n in range(200)]


class _ReadsHeldUntilStopped:
    """Every status read waits until the reading is stopped; counts the reads that began."""

    def __init__(self, stop: threading.Event, concurrency: int) -> None:
        self.stop = stop
        self.concurrency = concurrency
        self.began = 0
        self.all_busy = threading.Event()
        self._lock = threading.Lock()

    def get_installation_status(self, tuid: str) -> str:
        with self._lock:
            self.began += 1
            if self.began == self.concurrency:
                self.all_busy.set()
        assert self.stop.wait(60), "the reading was never stopped"
        return "installed"


class _ReportWhenBusy(Pacing):
    """Reports once every pool thread is inside a read."""

    def __init__(self, platform: _ReadsHeldUntilStopped) -> None:
        super().__init__()
        self.platform = platform

    def next_report(self, finished: threading.Event) -> bool:
        assert self.platform.all_busy.wait(60), "the reads never began"
        return False


@pytest.mark.parametrize("how", ["the progress write fails", "the job was cancelled"])
def test_reading_stops_at_a_report_and_makes_none_of_the_calls_left(how: str) -> None:
    stop = threading.Event()
    platform = _ReadsHeldUntilStopped(stop, concurrency=2)

    def on_progress(read: int) -> bool:
        assert read == 0  # both reads are still under way
        if how == "the progress write fails":
            raise RuntimeError("database went away")
        return False

    expected = RuntimeError if how == "the progress write fails" else CheckStopped
    with pytest.raises(expected):
        read_devices(
            platform,  # type: ignore[arg-type]
            TUIDS,
            known_group="prfi00x",
            concurrency=2,
            pacing=_ReportWhenBusy(platform),
            on_progress=on_progress,
            stop=stop,
        )
    # It did not wait for the two reads under way (they were held until it stopped); of the
    # 198 left, none began.
    assert stop.is_set() and platform.began == 2


class _RateLimitedFirst:
    """Refuses each device's first `refusals` status reads with 429, then answers."""

    def __init__(self, refusals: int, retry_after: float | None) -> None:
        self.refusals = refusals
        self.retry_after = retry_after
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def get_installation_status(self, tuid: str) -> str:
        with self._lock:
            self.calls[tuid] = self.calls.get(tuid, 0) + 1
            refused = self.calls[tuid] <= self.refusals
        if refused:
            raise platform_errors.RateLimited("slow down", retry_after=self.retry_after)
        return "installed"


def test_a_rate_limited_read_waits_as_the_platform_asked_then_succeeds() -> None:
    waits: list[float] = []
    platform = _RateLimitedFirst(refusals=2, retry_after=2.0)
    readings = read_devices(
        platform,  # type: ignore[arg-type]
        TUIDS[:3],
        known_group="prfi00x",
        pacing=Pacing(sleep=waits.append, rng=random.Random(1)),
    )
    assert {r.status for r in readings.values()} == {"installed"}
    assert len(waits) == 3 * 2
    assert all(2.0 <= wait <= RATE_LIMIT_WAIT_CAP_S for wait in waits)


def test_a_read_refused_every_time_is_an_error_after_a_capped_backoff() -> None:
    waits: list[float] = []
    platform = _RateLimitedFirst(refusals=RATE_LIMIT_TRIES, retry_after=600.0)
    readings = read_devices(
        platform,  # type: ignore[arg-type]
        TUIDS[:1],
        known_group="prfi00x",
        pacing=Pacing(sleep=waits.append),
    )
    (reading,) = readings.values()
    assert not reading.found and reading.error and "rate limited" in reading.error
    # Far less than the platform asked: a supervisor is waiting for the preview.
    assert waits == [RATE_LIMIT_WAIT_CAP_S] * (RATE_LIMIT_TRIES - 1)


def test_without_retry_after_the_backoff_grows_from_its_base() -> None:
    waits: list[float] = []
    pacing = Pacing(sleep=waits.append, rng=random.Random(7))
    pacing.rate_limited(1, None)
    pacing.rate_limited(2, None)
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0
