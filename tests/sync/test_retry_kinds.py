"""A step, a read-back and a verification look classify the same platform failure the same way."""

from __future__ import annotations

from typing import Any

import pytest

from app.platform import errors
from app.sync.readback import ClaimedCheck, Expected, run_check
from app.sync.retry import RETRY_ERROR, RETRY_RATE_LIMITED, RETRY_UNAVAILABLE
from app.sync.step_runner import ClaimedStep, run_step
from app.verification.look import ClaimedLook, run_look


class FailingPlatform:
    """Every call raises the one error it was given."""

    def __init__(self, error: errors.PlatformError) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return call


def _attempts(error: errors.PlatformError) -> list[Any]:
    platform: Any = FailingPlatform(error)
    step = ClaimedStep(1, 1, "TUID1", "set_status", "installed", 1, False, "lease")
    check = ClaimedCheck("TUID1", "lease", 1, 1, 0.0, False, status=Expected("installed", 1, 1))
    look = ClaimedLook(1, 1, "TUID1", "lease", "waiting", 0.0, 60.0, 0, 5.0, 60.0, 0)
    return [run_step(platform, step), run_check(platform, check), run_look(platform, look)]


def test_a_429_waits_as_the_platform_asked_wherever_it_comes_from() -> None:
    for outcome in _attempts(errors.RateLimited("slow down", retry_after=7.0)):
        assert outcome.kind == "retry"
        assert outcome.retry_kind == RETRY_RATE_LIMITED
        assert outcome.retry_after == 7.0
        assert outcome.http_status == 429
        assert outcome.message == "The platform is rate limiting us; waiting as it asked."
        assert not outcome.platform_down


@pytest.mark.parametrize(
    ("error", "kind", "down"),
    [
        (errors.Unavailable("502 Bad Gateway", status=502), RETRY_UNAVAILABLE, True),
        (errors.MalformedResponse("not JSON", status=200), RETRY_ERROR, False),
    ],
)
def test_an_outage_and_an_unreadable_answer_are_told_apart_the_same_way(
    error: errors.PlatformError, kind: str, down: bool
) -> None:
    for outcome in _attempts(error):
        assert outcome.kind == "retry"
        assert outcome.retry_kind == kind
        assert outcome.platform_down is down
        assert outcome.http_status == error.status
