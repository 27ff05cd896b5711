"""Scripted failures for the next requests: a status, optionally only for a method or path."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import EmulatorConfig

# What API Gateway and Lambda return when something breaks at random (spec §6.12).
RANDOM_FAULT_STATUSES = (500, 502, 504)


@dataclass(frozen=True)
class ScriptedFault:
    status: int
    method: str | None = None
    path: str | None = None  # a substring of the request path, e.g. "/installations"

    def matches(self, method: str, path: str) -> bool:
        """Say whether this fault applies to a request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path in path

    def to_json(self) -> int | dict[str, Any]:
        """Describe the fault the way settings accept it."""
        if self.method is None and self.path is None:
            return self.status
        return {"status": self.status, "method": self.method, "path": self.path}


def parse_scripted_faults(value: Any) -> list[ScriptedFault]:
    """Parse [503, {"status": 500, "method": "POST", "path": "/installations"}, ...]."""
    if not isinstance(value, list | tuple):
        raise ValueError("expected a list of statuses")
    faults = []
    for item in value:
        if isinstance(item, ScriptedFault):
            faults.append(item)
            continue
        if isinstance(item, dict):
            unknown = set(item) - {"status", "method", "path"}
            if unknown:
                raise ValueError(f"unknown fault fields: {sorted(unknown)}")
            status, method, path = item.get("status"), item.get("method"), item.get("path")
        else:
            status, method, path = item, None, None
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"fault status must be an int 400-599, got {status!r}")
        if method is not None and not isinstance(method, str):
            raise ValueError("fault method must be a string")
        if path is not None and not isinstance(path, str):
            raise ValueError("fault path must be a string")
        faults.append(ScriptedFault(status, method, path))
    return faults


def request_delay_ms(settings: EmulatorConfig, rng: random.Random, method: str, path: str) -> float:
    """Return a request's delay: base latency, uniform jitter, and a stall if one applies."""
    delay = settings.latency_ms
    if settings.jitter_ms > 0:
        delay += rng.uniform(0, settings.jitter_ms)
    stalls = (
        settings.stall_ms > 0
        and (not settings.stall_paths or any(part in path for part in settings.stall_paths))
        and (not settings.stall_methods or method.upper() in settings.stall_methods)
        and (settings.stall_share >= 1 or rng.random() < settings.stall_share)
    )
    return delay + settings.stall_ms if stalls else delay
