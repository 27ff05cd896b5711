"""The platform's records behind the emulator's lock: things, their installations, messages and
commands, deployment groups, alerts, and the test controls that add and power devices.

EmulatorState (emulator.state) holds these records beside the sandbox's own switches (settings,
tokens, faults, the call log) and creates the attributes declared here.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from re import Pattern
from typing import TYPE_CHECKING, Any

from . import devices as sim
from . import validation
from .clock import EmulatorClock
from .devices import Device
from .errors import BadRequest, Conflict, NotFound
from .spec import UNASSIGNED
from .tuids import is_gateway, kind_of, random_tuid

if TYPE_CHECKING:
    from .state import EmulatorConfig


class Fleet:
    """The devices and groups an emulator holds, and the platform calls on them."""

    id_pattern: Pattern[str]
    id_name: str
    clock: EmulatorClock
    settings: EmulatorConfig
    _lock: threading.RLock
    _rng: random.Random
    _devices: dict[str, Device]
    _groups: dict[str, str | None]
    _fleet_gateway: str
    _installations_posted: Counter[str]

    # --- things -----------------------------------------------------------------------------

    def tuids(self) -> list[str]:
        """Return every device's TUID in the order they were added."""
        with self._lock:
            return list(self._devices)

    def thing_info(self, tuid: str) -> dict[str, Any]:
        """Return GET /things/{tuid}: battery, latest event time, location, gateway, version."""
        with self._lock:
            device = self._live_device(tuid)
            info: dict[str, Any] = {}
            if device.battery_level is not None:
                info["battery_level"] = device.battery_level
            if device.last_seen is not None:
                info["timestamp"] = int(device.last_seen)
            if device.lat is not None and device.lon is not None:
                info["location"] = {"lat": device.lat, "lon": device.lon}
            if device.gateway_tuid:
                info["gateway_tuid"] = device.gateway_tuid
            if device.version:
                info["version"] = device.version
            return info

    def messages(
        self,
        tuid: str,
        limit: int,
        *,
        message_ids: list[int] | None = None,
        event_ids: list[int] | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return a device's messages newest first, filtered, at most min(limit, cap)."""
        with self._lock:
            device = self._live_device(tuid)
            cap = self.settings.message_limit_cap
            wanted = min(limit, cap) if limit > 0 else cap
            found: list[dict[str, Any]] = []
            for message in reversed(device.messages):
                if len(found) >= wanted:
                    break
                if _matches(message, message_ids, event_ids, since, until):
                    found.append(dict(message))
            return found

    def commands(
        self,
        tuid: str,
        limit: int | None = None,
        *,
        message_ids: list[int] | None = None,
        event_ids: list[int] | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[dict[str, Any]]:
        """Return commands sent to a device, newest first; limit None or 0 means all."""
        with self._lock:
            device = self._device(tuid)
            found: list[dict[str, Any]] = []
            for record in reversed(device.commands):
                if limit and len(found) >= limit:
                    break
                if _matches(record["command"], message_ids, event_ids, since, until):
                    found.append({**record, "command": dict(record["command"])})
            return found

    def send_commands(self, tuid: str, body: Any, client_id: str) -> dict[str, Any]:
        """Store commands for a device after checking all of them; stamp tsmTs and tsmDstTuid."""
        with self._lock:
            device = self._device(tuid)
            commands = validation.commands(body, self.settings.command_allowlist)
            ts = int(self.clock.now())
            accepted = [{**command, "tsmTs": ts, "tsmDstTuid": tuid} for command in commands]
            for command in accepted:
                device.commands.append(
                    {"tuid": tuid, "timestamp": ts, "responsible": client_id, "command": command}
                )
            return {"responsible": client_id, "commands": [dict(c) for c in accepted]}

    def installations(self, tuid: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Return a device's installation records newest first; limit None or 0 means all."""
        with self._lock:
            device = self._device(tuid)
            visible_until = self.clock.now() - self.settings.read_lag_s
            records = [
                _installation_json(tuid, entry)
                for entry in reversed(device.installations)
                if self.settings.read_lag_s <= 0 or entry.written_at <= visible_until
            ]
            return records[:limit] if limit else records

    def set_installation_status(self, tuid: str, status: Any, client_id: str) -> dict[str, Any]:
        """Append an installation record with server time and the caller as responsible."""
        with self._lock:
            device = self._device(tuid)
            checked = validation.installation_status(status)
            now = self.clock.now()
            device.installations.append(sim.InstallationEntry(checked, int(now), client_id, now))
            self._installations_posted[tuid] += 1
            return {"tuid": tuid, "installation_status": checked}

    def history(self, tuids: list[str] | None = None) -> dict[str, Any]:
        """Return every write each device received (installations and group changes), oldest
        first, ignoring read lag: what a benchmark compares with what the app believes."""
        with self._lock:
            wanted = tuids if tuids is not None else list(self._devices)
            return {
                tuid: {
                    "installations": [
                        {**_installation_json(tuid, e), "written_at": e.written_at}
                        for e in self._devices[tuid].installations
                    ],
                    "group_changes": [
                        {"at": at, "group_id": group}
                        for at, group in self._devices[tuid].group_changes
                    ],
                    "group_id": self._devices[tuid].group_id,
                }
                for tuid in wanted
                if tuid in self._devices
            }

    def installation_history(self, tuid: str) -> list[dict[str, Any]]:
        """Return every installation record of a device, oldest first, ignoring read lag."""
        with self._lock:
            device = self._device(tuid)
            return [_installation_json(tuid, entry) for entry in device.installations]

    def group_of(self, tuid: str) -> str:
        """Return the device's deployment group as a reader sees it (after any read lag)."""
        with self._lock:
            device = self._device(tuid)
            lag = self.settings.read_lag_s
            if lag <= 0:
                return device.group_id
            visible_until = self.clock.now() - lag
            visible = [group for at, group in device.group_changes if at <= visible_until]
            return visible[-1] if visible else UNASSIGNED

    def assign_group(self, tuid: str, group_id: Any) -> dict[str, Any]:
        """Put a device into a group, or take it out with `unassigned`."""
        with self._lock:
            device = self._device(tuid)
            target = validation.group_target(group_id)
            if target != UNASSIGNED and target not in self._groups:
                raise NotFound(f"Group {target} not found")
            self._move(device, target)
            return {"group_id": target, "tuid": tuid}

    # --- deployment groups ------------------------------------------------------------------

    def list_groups(self, q: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Return `unassigned` and every group, filtered by a case-insensitive substring."""
        with self._lock:
            listed = [{"group_id": UNASSIGNED}] + [
                _group_json(group_id, description) for group_id, description in self._groups.items()
            ]
            if q:
                listed = [g for g in listed if q.lower() in g["group_id"].lower()]
            return listed[:limit] if limit else listed

    def create_group(self, group_id: Any, description: Any = None) -> dict[str, Any]:
        """Create a deployment group; 409 if the id is taken."""
        with self._lock:
            checked = validation.new_group_id(group_id, strict=self.settings.strict_group_naming)
            if description is not None and not isinstance(description, str):
                raise BadRequest("group_description must be a string")
            if checked in self._groups:
                raise Conflict(f"Group {checked} already exists")
            self._groups[checked] = description
            return _group_json(checked, description)

    def rename_group(self, group_id: str, new_group_id: Any) -> dict[str, Any]:
        """Rename a group, keeping its description and members."""
        with self._lock:
            if group_id.lower() == UNASSIGNED:
                raise BadRequest("'unassigned' cannot be renamed")
            if group_id not in self._groups:
                raise NotFound(f"Group {group_id} not found")
            new_id = validation.new_group_id(new_group_id, strict=self.settings.strict_group_naming)
            if new_id in self._groups:
                raise Conflict(f"Group {new_id} already exists")
            # Rebuild to keep the listing order with the new id in the old one's place.
            self._groups = {
                (new_id if key == group_id else key): value for key, value in self._groups.items()
            }
            for device in self._members(group_id):
                self._move(device, new_id)
            return {"group_id": new_id, "old": group_id, "renamed": True}

    def delete_group(self, group_id: str) -> dict[str, Any]:
        """Delete a group; its members go to `unassigned` unless the conflict setting is on."""
        with self._lock:
            if group_id.lower() == UNASSIGNED:
                raise BadRequest("'unassigned' cannot be deleted")
            if group_id not in self._groups:
                raise NotFound(f"Group {group_id} not found")
            members = self._members(group_id)
            if members and self.settings.delete_nonempty_group_conflict:
                raise Conflict(f"Group {group_id} still has {len(members)} things")
            for device in members:
                self._move(device, UNASSIGNED)
            del self._groups[group_id]
            return {"group_id": group_id, "deleted": True}

    def group_things(self, group_id: str) -> dict[str, Any]:
        """Return the TUIDs in a group (or in `unassigned`)."""
        with self._lock:
            if group_id != UNASSIGNED and group_id not in self._groups:
                raise NotFound(f"Group {group_id} not found")
            return {"group_id": group_id, "tuids": [d.tuid for d in self._members(group_id)]}

    # --- alerts -----------------------------------------------------------------------------

    def alerting_tuids(self) -> list[str]:
        """Return the TUIDs with an open alert now."""
        with self._lock:
            now, threshold = self.clock.now(), self.settings.heartbeat_missed_after_s
            return [
                tuid
                for tuid, device in self._devices.items()
                if sim.open_alerts(device, now, threshold)
            ]

    def thing_alerts(
        self, tuid: str, since: int | None = None, until: int | None = None
    ) -> list[dict[str, Any]]:
        """Return a device's alert periods overlapping [since, until], grouped by type."""
        with self._lock:
            device = self._device(tuid)
            return sim.alert_periods(
                device, self.clock.now(), self.settings.heartbeat_missed_after_s, since, until
            )

    # --- device simulation (test control) ---------------------------------------------------

    def add_devices(
        self, tuids: list[str] | None = None, count: int = 0, offline_share: float = 0.0
    ) -> list[str]:
        """Add the given TUIDs and/or `count` generated ones; return the TUIDs (existing kept)."""
        wanted = list(tuids or [])
        for tuid in wanted:
            if not isinstance(tuid, str) or not self.id_pattern.match(tuid):
                raise BadRequest(f"not a {self.id_name}: {tuid!r}")
        if count < 0:
            raise BadRequest("count must not be negative")
        with self._lock:
            now = self.clock.now()
            while count:
                tuid = self._new_device_id()
                if tuid not in self._devices and tuid not in wanted:
                    wanted.append(tuid)
                    count -= 1
            for tuid in wanted:
                if tuid in self._devices:
                    continue
                silent = offline_share > 0 and self._rng.random() < offline_share
                # A silent device stopped reporting a while ago, so its alert is already open.
                born = now - self.settings.heartbeat_missed_after_s - 3600 if silent else now
                device = sim.new_device(tuid, self._rng, born, self._gateway_for(tuid))
                if silent:
                    sim.go_offline(device, self._rng, born)
                self._devices[tuid] = device
            return wanted

    def power_plan(self, plan: dict[str, float | None]) -> dict[str, Any]:
        """Unpower these devices now; each powers on `after_s` emulator seconds later (None:
        never). Models installs whose devices report at once, late or not at all."""
        with self._lock:
            now = self.clock.now()
            for tuid in plan:
                self._device(tuid)  # 404 before changing anything
            for tuid, after_s in plan.items():
                device = self._device(tuid)
                sim.go_offline(device, self._rng, now)
                device.power_on_at = None if after_s is None else now + after_s
            return {"devices": len(plan), "now": now}

    def power_on(self, tuid: str) -> list[dict[str, Any]]:
        """Power a device on: it comes online and sends its boot sequence (newest first)."""
        with self._lock:
            device = self._live_device(tuid)
            device.power_on_at = None
            booted = sim.power_on(
                device, self._rng, self.clock.now(), self.settings.heartbeat_missed_after_s
            )
            return [dict(m) for m in reversed(booted)]

    def set_offline(self, tuid: str) -> dict[str, Any]:
        """Silence a device; it raises `heartbeat missed` once the threshold passes."""
        with self._lock:
            device = self._device(tuid)
            sim.go_offline(device, self._rng, self.clock.now())
            return self.thing_snapshot(tuid)

    def thing_snapshot(self, tuid: str) -> dict[str, Any]:
        """Return everything the emulator holds on a device, history oldest first."""
        with self._lock:
            device = self._live_device(tuid)
            return {
                "tuid": tuid,
                "kind": device.kind,
                "online": device.online,
                "group_id": device.group_id,
                "installations": self.installation_history(tuid),
                "installation_status": device.installations[-1].installation_status,
                "messages": len(device.messages),
                "commands": len(device.commands),
                "last_seen": device.last_seen,
                "version": device.version,
                "alerting": bool(
                    sim.open_alerts(
                        device, self.clock.now(), self.settings.heartbeat_missed_after_s
                    )
                ),
            }

    # --- internals --------------------------------------------------------------------------

    def _device(self, tuid: str) -> Device:
        device = self._devices.get(tuid)
        if device is None:
            raise NotFound(f"Thing {tuid} not found")
        return device

    def _live_device(self, tuid: str) -> Device:
        device = self._device(tuid)
        now = self.clock.now()
        sim.power_on_when_due(device, self._rng, now, self.settings.heartbeat_missed_after_s)
        sim.catch_up(device, self._rng, now)
        return device

    def _members(self, group_id: str) -> list[Device]:
        return [d for d in self._devices.values() if d.group_id == group_id]

    def _move(self, device: Device, group_id: str) -> None:
        # Report anything due first so earlier reports keep the old deploymentGroupId.
        now = self.clock.now()
        sim.catch_up(device, self._rng, now)
        device.group_id = group_id
        device.group_changes.append((now, group_id))

    def _new_device_id(self) -> str:
        return random_tuid(self._rng)

    def _gateway_for(self, tuid: str) -> str | None:
        if is_gateway(kind_of(tuid)):
            return None
        gateways = [t for t, d in self._devices.items() if is_gateway(d.kind)]
        return self._rng.choice(gateways) if gateways else self._fleet_gateway


def _matches(
    message: dict[str, Any],
    message_ids: list[int] | None,
    event_ids: list[int] | None,
    since: int | None,
    until: int | None,
) -> bool:
    if message_ids and message.get("tsmId") not in message_ids:
        return False
    if event_ids and message.get("tsmEv") not in event_ids:
        return False
    ts = message.get("tsmTs", 0)
    return (since is None or ts >= since) and (until is None or ts <= until)


def _installation_json(tuid: str, entry: sim.InstallationEntry) -> dict[str, Any]:
    return {
        "tuid": tuid,
        "installation_status": entry.installation_status,
        "timestamp": entry.timestamp,
        "responsible": entry.responsible,
    }


def _group_json(group_id: str, description: str | None) -> dict[str, Any]:
    # The description may be missing in real answers (spec §2.8), so leave it out when unset.
    if description is None:
        return {"group_id": group_id}
    return {"group_id": group_id, "group_description": description}
