"""At most a few photo decodes at once per process: decoding takes memory and a core each."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import ServiceUnavailable


class DecoderBusy(ServiceUnavailable):
    """Every decode slot stayed taken while the request waited; it may try again shortly."""

    code = "decoder_busy"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "The server is reading other photos right now. Try again in a few seconds.",
            {"retry_after_s": retry_after_s},
        )
        self.retry_after_s = retry_after_s


class DecodeSlots:
    """A bounded number of decodes at once; a caller waits up to `wait_s` for a free slot."""

    def __init__(self, count: int, wait_s: float, *, retry_after_s: float) -> None:
        self._free = threading.Semaphore(max(0, count))
        self.wait_s = wait_s
        self.retry_after_s = max(1, math.ceil(retry_after_s))

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold one slot for the block, or raise DecoderBusy when none frees up in time."""
        if not self._free.acquire(timeout=max(0.0, self.wait_s)):
            raise DecoderBusy(self.retry_after_s)
        try:
            yield
        finally:
            self._free.release()
