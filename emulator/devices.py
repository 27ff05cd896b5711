"""Simulated devices: their records, seeded message streams, the boot sequence and going silent."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .spec import UNASSIGNED
from .tuids import is_gateway, kind_of

# Periodic data and heartbeats default to hourly (spec §5).
REPORT_INTERVAL_S = 3600
# Keep a long-running emulator's memory bounded; clients never read this far back.
MAX_MESSAGES_PER_DEVICE = 5000
# After a long clock jump, emit at most this many catch-up reports instead of every hour.
MAX_CATCH_UP_REPORTS = 24
SEEDED_REPORTS = 4
FACTORY_RESPONSIBLE = "factory"
HEARTBEAT_MISSED = "heartbeat missed"
# An alert whose start is unknown reports this (spec §2.9).
UNKNOWN_START = "1970-01-01T00:00:00"

# Kinds that run from mains or USB and so report no battery level (spec §2.1).
_NO_BATTERY = {"gateway", "gateway-lan", "count"}

_VERSIONS: dict[str, tuple[str, ...]] = {
    "gateway": ("2021.03.04.1_ts_gw_global", "2022.01.17.3_ts_gw_global"),
    "gateway-lan": ("2021.05.20.2_ts_gw_lan",),
    "environment": ("2019.11.15.2_ts_pod3wp34", "2021.08.30.1_ts_pod4wp52"),
    "environment-rugged": ("2020.09.01.1_ts_pod3rugged",),
    "presence": ("2020.06.01.1_ts_pir_wp42", "2022.02.14.2_ts_pir_wp52"),
    "distance": ("2020.04.22.1_ts_tof",),
    "beam": ("2021.10.05.1_ts_beam",),
    "angle": ("2020.11.11.1_ts_angle",),
    "leakage": ("2021.02.02.1_ts_leak",),
    "air": ("2021.06.15.2_ts_air",),
    "count": ("2022.04.01.1_ts_count",),
    "activity": ("2021.01.12.1_ts_activity",),
    "loolight": ("2020.03.03.1_ts_loolight",),
}


@dataclass(frozen=True)
class InstallationEntry:
    installation_status: str
    timestamp: int
    responsible: str
    # Emulator time of the write, finer than `timestamp`, for the optional read lag.
    written_at: float


@dataclass
class AlertPeriod:
    alert_type: str
    start: float
    end: float | None = None


@dataclass
class Device:
    tuid: str
    kind: str
    version: str | None
    lat: float | None
    lon: float | None
    gateway_tuid: str | None
    battery_level: int | None
    installations: list[InstallationEntry] = field(default_factory=list)
    group_id: str = UNASSIGNED
    # (emulator time, group id) of every group change, for the optional read lag.
    group_changes: list[tuple[float, str]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    commands: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    online: bool = True
    last_report: float = 0.0
    closed_alerts: list[AlertPeriod] = field(default_factory=list)
    # Emulator time at which a silent (unpowered) device is powered on: a late reporter.
    power_on_at: float | None = None

    @property
    def last_seen(self) -> float | None:
        """Return the time of the latest message, if any."""
        return float(self.messages[-1]["tsmTs"]) if self.messages else None


def new_device(
    tuid: str, rng: random.Random, now: float, gateway_tuid: str | None = None
) -> Device:
    """Create a factory-fresh device: unassigned, one `new` record, a few past reports."""
    kind = kind_of(tuid)
    versions = _VERSIONS.get(kind, ("unknown-sw-release",))
    # Some devices really report this (spec §2.1); clients must cope.
    version = "unknown-sw-release" if rng.random() < 0.05 else rng.choice(versions)
    has_location = rng.random() < 0.9
    device = Device(
        tuid=tuid,
        kind=kind,
        version=version,
        lat=round(65.01 + rng.uniform(-0.05, 0.05), 5) if has_location else None,
        lon=round(25.47 + rng.uniform(-0.1, 0.1), 5) if has_location else None,
        gateway_tuid=None if is_gateway(kind) else gateway_tuid,
        battery_level=None if kind in _NO_BATTERY else rng.randint(55, 100),
    )
    factory_time = now - rng.randint(7, 400) * 86400
    device.installations.append(
        InstallationEntry("new", int(factory_time), FACTORY_RESPONSIBLE, factory_time)
    )
    device.group_changes.append((factory_time, UNASSIGNED))
    # Reports sit at a random phase within the hour, like a real fleet's.
    first = now - rng.uniform(0, REPORT_INTERVAL_S) - (SEEDED_REPORTS - 1) * REPORT_INTERVAL_S
    for i in range(SEEDED_REPORTS):
        _report(device, rng, first + i * REPORT_INTERVAL_S)
    return device


def catch_up(device: Device, rng: random.Random, now: float) -> None:
    """Emit the periodic reports an online device would have sent up to `now`."""
    if not device.online:
        return
    due = int((now - device.last_report) // REPORT_INTERVAL_S)
    if due <= 0:
        return
    skipped = max(0, due - MAX_CATCH_UP_REPORTS)
    start = device.last_report + skipped * REPORT_INTERVAL_S
    for i in range(1, due - skipped + 1):
        _report(device, rng, start + i * REPORT_INTERVAL_S)


def power_on(
    device: Device, rng: random.Random, now: float, threshold_s: float
) -> list[dict[str, Any]]:
    """Bring a device online and append the §5 boot sequence; return the new messages."""
    for alert in open_alerts(device, now, threshold_s):
        alert.end = now
        device.closed_alerts.append(alert)
    device.online = True
    device.last_report = now
    before = len(device.messages)
    ts = int(now)
    _append(device, 1100, 11, ts, {"swVersion": device.version or "unknown-sw-release"})
    # ASSUMPTION: network-connected events carry the neighbour/network id 1202.
    _append(device, 1202, 17, ts, {"nwConnected": 1})
    if device.battery_level is not None:
        _append(device, 1110, 10, ts, {"batl": device.battery_level})
    _append(device, 1202, 10, ts, {"nbRssi": rng.randint(-95, -55)})
    _append(
        device,
        1500,
        31,
        ts,
        {"measurementInterval": 60, "reportInterval": REPORT_INTERVAL_S},
    )
    tsm_id, payload = _data_reading(device, rng)
    _append(device, tsm_id, 10, ts, payload)
    return device.messages[before:]


def power_on_when_due(device: Device, rng: random.Random, now: float, threshold_s: float) -> None:
    """Power on a device whose scheduled power-on time has come, as of that time."""
    at = device.power_on_at
    if at is None or now < at:
        return
    device.power_on_at = None
    power_on(device, rng, at, threshold_s)
    catch_up(device, rng, now)


def go_offline(device: Device, rng: random.Random, now: float) -> None:
    """Stop a device reporting after it has sent everything due up to `now`."""
    catch_up(device, rng, now)
    device.online = False


def open_alerts(device: Device, now: float, threshold_s: float) -> list[AlertPeriod]:
    """Return the alert a silent device has raised by `now`; [] while online or not yet due."""
    if device.online:
        return []
    last_seen = device.last_seen
    if last_seen is None:
        return [AlertPeriod(HEARTBEAT_MISSED, 0.0)]
    start = last_seen + threshold_s
    if now < start:
        return []
    return [AlertPeriod(HEARTBEAT_MISSED, start)]


def alert_periods(
    device: Device, now: float, threshold_s: float, since: float | None, until: float | None
) -> list[dict[str, Any]]:
    """Return the device's alerts grouped by type, as GET /things/{tuid}/alerts shows them."""
    periods = [*device.closed_alerts, *open_alerts(device, now, threshold_s)]
    by_type: dict[str, list[dict[str, str | None]]] = {}
    for period in periods:
        end = now if period.end is None else period.end
        if (since is not None and end < since) or (until is not None and period.start > until):
            continue
        by_type.setdefault(period.alert_type, []).append(
            {"from": iso_utc(period.start), "to": None if period.end is None else iso_utc(end)}
        )
    return [
        {"tuid": device.tuid, "alert_type": alert_type, "alerts": items}
        for alert_type, items in by_type.items()
    ]


def iso_utc(unix_s: float) -> str:
    """Format Unix seconds the way alerts do: ISO-8601 with no zone, UTC."""
    if unix_s <= 0:
        return UNKNOWN_START
    return datetime.fromtimestamp(int(unix_s), UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _report(device: Device, rng: random.Random, at: float) -> None:
    ts = int(at)
    device.last_report = at
    tsm_id, payload = _data_reading(device, rng)
    _append(device, tsm_id, 10, ts, payload)
    # Battery-powered devices also send a battery report every few hours.
    if device.battery_level is not None and ts // REPORT_INTERVAL_S % 4 == 0:
        if rng.random() < 0.1:
            device.battery_level = max(1, device.battery_level - 1)
        _append(device, 1110, 101, ts, {"batl": device.battery_level})


def _data_reading(device: Device, rng: random.Random) -> tuple[int, dict[str, Any]]:
    kind = device.kind
    if is_gateway(kind):
        return 11200, {"nodeCount": rng.randint(0, 40), "uptime": rng.randint(1000, 10**6)}
    if kind in ("environment", "environment-rugged", "leakage"):
        reading = {
            "temp": round(rng.uniform(17, 25), 1),
            "humd": round(rng.uniform(20, 60), 1),
            "airp": round(rng.uniform(98000, 103000), 1),
        }
        if kind == "leakage":
            reading["leak"] = 0
        return 12100, reading
    if kind == "presence":
        return 13100, {"move": rng.randint(0, 30)}
    if kind == "count":
        return 13102, {"in": rng.randint(0, 50), "out": rng.randint(0, 50)}
    if kind in ("distance", "beam"):
        return 17100, {"dist": rng.randint(100, 4000)}
    if kind == "angle":
        return 18100, {"pitch": rng.randint(-90, 90), "roll": rng.randint(-180, 180)}
    if kind == "air":
        return 24100, {"co2": rng.randint(400, 1500), "tvoc": rng.randint(0, 500)}
    return 1110, {"batl": device.battery_level if device.battery_level is not None else 100}


def _append(device: Device, tsm_id: int, tsm_ev: int, ts: int, payload: dict[str, Any]) -> None:
    message = {
        "tsmId": tsm_id,
        "tsmEv": tsm_ev,
        "tsmTs": ts,
        "tsmTuid": device.tuid,
        "tsmGw": device.gateway_tuid or device.tuid,
        "deploymentGroupId": device.group_id,
        **payload,
    }
    device.messages.append(message)
    if len(device.messages) > MAX_MESSAGES_PER_DEVICE:
        del device.messages[: len(device.messages) - MAX_MESSAGES_PER_DEVICE]
