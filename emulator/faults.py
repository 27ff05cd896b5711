"""Scripted failures for the next requests: a status, optionally only for a method or path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
