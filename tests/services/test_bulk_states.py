"""A bulk job's state machine: which moves are allowed and what each one stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.errors import Conflict
from app.models.bulk import BulkJob
from app.services.bulk import states

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def _job(state: str, **summary: object) -> BulkJob:
    return BulkJob(state=state, created_at=NOW - timedelta(minutes=1), summary=dict(summary))


def test_a_dry_run_is_confirmed_runs_and_finishes() -> None:
    job = _job(states.INITIAL)
    states.move(job, states.PREVIEW, NOW)
    states.move(job, states.CONFIRMING, NOW)
    assert job.confirmed_at == NOW
    states.move(job, states.RUNNING, NOW + timedelta(seconds=1))
    assert job.finished_at is None
    states.move(job, states.DONE, NOW + timedelta(seconds=2))
    assert job.finished_at == NOW + timedelta(seconds=2)
    # A supervisor retries one of its operations from the inbox: it runs again.
    states.move(job, states.RUNNING, NOW + timedelta(seconds=3))
    assert job.state == states.RUNNING and job.finished_at is None


@pytest.mark.parametrize(
    ("state", "to"),
    [
        (states.CHECKING, states.CONFIRMING),  # still reading the devices
        (states.CHECK_FAILED, states.PREVIEW),
        (states.PREVIEW, states.RUNNING),  # only through a counted confirm
        (states.DONE, states.CANCELLED),  # nothing left to stop
        (states.CANCELLED, states.CANCELLED),
        (states.CANCELLED, states.RUNNING),
    ],
)
def test_moves_outside_the_table_are_refused(state: str, to: str) -> None:
    job = _job(state)
    assert not states.can_move(state, to)
    with pytest.raises(Conflict):
        states.move(job, to, NOW)
    assert job.state == state


def test_every_state_but_done_and_cancelled_can_be_cancelled() -> None:
    cancellable = {s for s in states.STATES if states.can_move(s, states.CANCELLED)}
    assert cancellable == set(states.STATES) - {states.DONE, states.CANCELLED}
    job = _job(states.RUNNING, cancelled_operations=1)
    states.move(job, states.CANCELLED, NOW, cancelled_operations=3)
    assert job.cancelled_at == NOW and job.summary == {"cancelled_operations": 3}


def test_a_dry_run_whose_progress_stopped_long_ago_fails() -> None:
    recent = _job(states.CHECKING, checked_at=(NOW - timedelta(seconds=10)).isoformat())
    assert not states.expire_stale_check(recent, NOW)
    assert recent.state == states.CHECKING
    stale = (NOW - timedelta(seconds=states.CHECK_STALE_S + 1)).isoformat()
    old = _job(states.CHECKING, read=5, checked_at=stale)
    assert states.expire_stale_check(old, NOW)
    assert old.state == states.CHECK_FAILED and old.finished_at == NOW
    assert old.summary["read"] == 5 and "interrupted" in old.summary["failure"]
    assert not states.expire_stale_check(_job(states.PREVIEW, checked_at=stale), NOW)


def test_settle_follows_the_operations_still_waiting() -> None:
    running = _job(states.RUNNING)
    assert not states.settle(running, active=3, now=NOW)
    assert states.settle(running, active=0, now=NOW) and running.state == states.DONE
    assert states.settle(running, active=1, now=NOW) and running.state == states.RUNNING
    for state in (states.CONFIRMING, states.CANCELLED, states.PREVIEW):
        assert not states.settle(_job(state), active=0, now=NOW)
