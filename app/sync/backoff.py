"""Capped exponential backoff with jitter, honouring a server's Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Return seconds to wait: jittered base*2^(attempt-1), capped, never below Retry-After."""
    uniform = rng.uniform if rng is not None else random.uniform
    exponential = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = exponential / 2 + uniform(0, exponential / 2)
    if retry_after is not None:
        # Never earlier than the server asked; a little jitter so a storm does not return at once.
        delay = max(delay, retry_after + uniform(0, min(1.0, retry_after / 4 + 0.05)))
    return delay


@dataclass(frozen=True)
class Backoff:
    """The worker's one backoff policy, shared by its step, read-back and look recorders."""

    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)

    def delay(
        self, attempt: int, retry_after: float | None = None, cap: float | None = None
    ) -> float:
        """Return seconds before try `attempt + 1`; `cap` lowers the policy's cap for this wait."""
        return retry_delay(
            attempt,
            base=self.base,
            cap=self.cap if cap is None else min(self.cap, cap),
            retry_after=retry_after,
            rng=self.rng,
        )
