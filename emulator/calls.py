"""The call log: every API request the emulator answered, for tests and benchmarks to inspect."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Enough for any test or benchmark run, bounded for a long-running sandbox.
MAX_CALLS = 200_000


@dataclass(frozen=True)
class Call:
    id: int
    time: float  # emulator time when the request arrived
    method: str
    path: str
    query: str
    status: int
    client_id: str | None
    fault: str | None  # "rate_limit", "fail_next", "fail_next_after_apply", "random" or None

    def to_json(self) -> dict[str, Any]:
        """Return the call as a JSON-ready dict."""
        return asdict(self)


class CallLog:
    """Append-only log with increasing ids. Not thread-safe: the state lock guards it."""

    def __init__(self) -> None:
        self._calls: deque[Call] = deque(maxlen=MAX_CALLS)
        self._next_id = 1

    def append(self, **fields: Any) -> Call:
        """Record one answered request."""
        call = Call(id=self._next_id, **fields)
        self._next_id += 1
        self._calls.append(call)
        return call

    def since(self, since_id: int = 0) -> list[Call]:
        """Return calls with an id above `since_id`, oldest first."""
        return [call for call in self._calls if call.id > since_id]

    def clear(self) -> None:
        """Drop every call; ids keep increasing so `since_id` cursors stay valid."""
        self._calls.clear()
