"""The state behind the other platforms' modes: the Thingsee emulator's devices, groups, tokens,
clock, faults and rate limits, with the platform's own device ids and the little each platform
keeps that Thingsee does not (device models, tags, an API key).

The installation history stays in the shared device record even on platforms that have none:
it is how tests and the sandbox see what was written, never something the platform serves.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import EmulatorClock
from ..errors import ApiError, BadRequest
from ..spec import UNASSIGNED
from ..state import EmulatorConfig, EmulatorState

# Not config fields: queued platform error codes ({"error": 14410, "path": "/group"}).
ERROR_QUEUE = "fail_next_error"


@dataclass(frozen=True)
class DeviceIds:
    """How a platform names devices: the pattern ids must match and how to make one."""

    name: str
    pattern: re.Pattern[str]
    generate: Callable[[random.Random], str]


@dataclass(frozen=True)
class QueuedError:
    error: int | str  # the platform's own code: 14410, "MAX_DEVICE_REACH", 503
    path: str | None = None  # a substring of the request path

    def to_json(self) -> dict[str, Any]:
        """Describe the queued error the way settings accept it."""
        return {"error": self.error, "path": self.path}


def parse_queued_errors(value: Any) -> list[QueuedError]:
    """Parse [14410, "NO_CHANNEL", {"error": 14407, "path": "/group"}]; raise BadRequest."""
    if not isinstance(value, list | tuple):
        raise BadRequest(f"{ERROR_QUEUE} must be a list")
    queued = []
    for item in value:
        error, path = (
            (item.get("error"), item.get("path")) if isinstance(item, dict) else (item, None)
        )
        if isinstance(error, bool) or not isinstance(error, int | str):
            raise BadRequest(f"{ERROR_QUEUE} items need an error code, got {item!r}")
        if path is not None and not isinstance(path, str):
            raise BadRequest("a queued error's path must be a string")
        queued.append(QueuedError(error, path))
    return queued


class PlatformState(EmulatorState):
    """EmulatorState for a platform that names devices its own way."""

    def __init__(
        self,
        platform: str,
        ids: DeviceIds,
        config: EmulatorConfig,
        clock: EmulatorClock | None = None,
        models: tuple[str, ...] = (),
    ) -> None:
        self.platform = platform
        self.ids = ids
        self.id_pattern = ids.pattern
        self.id_name = ids.name
        self._model_names = models
        super().__init__(config, clock)

    def _load_initial(self) -> None:
        # Set before the parent seeds devices, which calls back into _new_device_id.
        self._queued_errors: list[QueuedError] = []
        self._written: set[str] = set()  # devices whose status Fieldhand set (attribute exists)
        self._tags: dict[str, dict[str, Any]] = {}
        self._models: dict[str, str] = {}
        self._group_models: dict[str, str | None] = {}
        self._names: dict[str, str] = {}  # group id -> name, where ids are not names
        self.api_key = self.client_secret  # rotate_api_key() replaces it until the next reset
        super()._load_initial()

    def _new_device_id(self) -> str:
        return self.ids.generate(self._rng)

    # --- settings, errors and keys ----------------------------------------------------------

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change live settings; `fail_next_error` queues platform error codes."""
        if ERROR_QUEUE in changes:
            queued = parse_queued_errors(changes.pop(ERROR_QUEUE))
            with self._lock:
                self._queued_errors = queued
        snapshot = super().update_settings(**changes)
        return {**snapshot, ERROR_QUEUE: [e.to_json() for e in self._queued_errors]}

    def settings_snapshot(self) -> dict[str, Any]:
        """Return the live settings with the queued platform errors."""
        snapshot = super().settings_snapshot()
        queued = getattr(self, "_queued_errors", [])
        return {**snapshot, ERROR_QUEUE: [e.to_json() for e in queued]}

    def take_queued_error(self, path: str) -> int | str | None:
        """Pop the first queued platform error for this path; return its code."""
        with self._lock:
            for index, queued in enumerate(self._queued_errors):
                if queued.path is None or queued.path in path:
                    del self._queued_errors[index]
                    return queued.error
            return None

    def rotate_api_key(self) -> str:
        """Replace the API key (as an admin resetting it in the GUI would); return the new one."""
        with self._lock:
            self.api_key = secrets.token_urlsafe(24)
            return self.api_key

    def check_api_key(self, presented: str | None) -> str | None:
        """Return the client id when `presented` is the current API key, else None."""
        if presented and secrets.compare_digest(presented.strip(), self.api_key):
            return self.client_id
        return None

    def end_sessions(self) -> None:
        """End every session early: every issued token stops working."""
        with self._lock:
            self._tokens.clear()

    def issue_token_md5(self, login_name: Any, password_md5: Any) -> str:
        """Check a login with the password's MD5 (ThingsMatrix) and issue a token."""
        expected = hashlib.md5(self.client_secret.encode(), usedforsecurity=False).hexdigest()
        matches = isinstance(password_md5, str) and secrets.compare_digest(
            password_md5.lower(), expected
        )
        # The parent counts the request and refuses a wrong secret with 401.
        return self.issue_token(login_name, self.client_secret if matches else "")

    # --- device facts the platforms show ----------------------------------------------------

    def require_device(self, device_id: str, not_found: Callable[[str], ApiError]) -> None:
        """Raise the platform's own not-found error for an unknown device."""
        with self._lock:
            if device_id not in self._devices:
                raise not_found(device_id)

    def status_of(self, device_id: str) -> str | None:
        """Return the installation status Fieldhand wrote (after any read lag), else None."""
        with self._lock:
            if device_id not in self._written:
                return None
            records = self.installations(device_id, 1)
            return records[0]["installation_status"] if records else None

    def write_status(self, device_id: str, status: Any, client_id: str) -> dict[str, Any]:
        """Append a status to the device's (test-only) history and mark it written."""
        with self._lock:
            record = self.set_installation_status(device_id, status, client_id)
            self._written.add(device_id)
            return record

    def first_installed_at(self, device_id: str) -> int | None:
        """Return when the device was first installed (ThingScale's activation time)."""
        for record in self.installation_history(device_id):
            if record["installation_status"] == "installed":
                return int(record["timestamp"])
        return None

    def is_online(self, device_id: str) -> bool:
        with self._lock:
            return self._devices[device_id].online

    def last_seen(self, device_id: str) -> float | None:
        with self._lock:
            return self._devices[device_id].last_seen

    def tags(self, device_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._tags.get(device_id, {}))

    def merge_tags(self, device_id: str, tags: dict[str, Any]) -> None:
        with self._lock:
            self._tags.setdefault(device_id, {}).update(tags)

    # --- models and named groups (ThingsMatrix) ---------------------------------------------

    def model_of(self, device_id: str) -> str | None:
        """Return the device's model: the platform's first one unless set_model changed it."""
        with self._lock:
            default = self._model_names[0] if self._model_names else None
            return self._models.get(device_id, default)

    def set_model(self, device_id: str, model: str) -> None:
        """Give a device another model (groups only take devices of one model)."""
        with self._lock:
            self._device(device_id)
            self._models[device_id] = model

    def group_model(self, group_id: str) -> str | None:
        with self._lock:
            return self._group_models.get(group_id)

    def group_description(self, group_id: str) -> str | None:
        with self._lock:
            return self._groups.get(group_id)

    def group_name(self, group_id: str) -> str:
        with self._lock:
            return self._names.get(group_id, group_id)

    def group_ids(self) -> list[str]:
        """Return the ids of every group (without `unassigned`), in creation order."""
        return [g["group_id"] for g in self.list_groups() if g["group_id"] != UNASSIGNED]

    def members(self, group_id: str) -> list[str]:
        return list(self.group_things(group_id)["tuids"])

    def create_named_group(self, name: str, description: str | None) -> str:
        """Create a group with a generated id and a unique name; return the id."""
        with self._lock:
            group_id = "".join(self._rng.choices("0123456789abcdef", k=16))
            self.create_group(group_id, description)
            self._names[group_id] = name
            return group_id

    def name_taken(self, name: str) -> bool:
        with self._lock:
            return name in self._names.values()

    def join_group(self, device_id: str, group_id: str) -> None:
        """Put a device into a group; the group takes the model of its first device."""
        with self._lock:
            self.assign_group(device_id, group_id)
            if group_id != UNASSIGNED and self._group_models.get(group_id) is None:
                self._group_models[group_id] = self.model_of(device_id)

    def forget_group(self, group_id: str) -> None:
        with self._lock:
            self.delete_group(group_id)
            self._names.pop(group_id, None)
            self._group_models.pop(group_id, None)
