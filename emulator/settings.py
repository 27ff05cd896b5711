"""Which settings can change while the emulator runs, and how a change is checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .faults import ScriptedFault, parse_scripted_faults

if TYPE_CHECKING:
    from .state import EmulatorConfig

FLOAT_SETTINGS = frozenset(
    {
        "token_ttl",
        "latency_ms",
        "jitter_ms",
        "fail_rate",
        "rate_limit",
        "read_lag_s",
        "heartbeat_missed_after_s",
        "stall_ms",
        "stall_share",
    }
)
INT_SETTINGS = frozenset({"auth_failure_status", "message_limit_cap"})
BOOL_SETTINGS = frozenset({"delete_nonempty_group_conflict", "strict_group_naming"})
LIST_SETTINGS = frozenset({"command_allowlist", "stall_paths", "stall_methods"})
# "drop": API connections are closed without an answer; "503": every API call is answered 503.
OUTAGE_MODES = ("", "drop", "503")
CHOICE_SETTINGS = {"outage": OUTAGE_MODES}
# Not config fields: queues of scripted failures consumed by the next requests.
FAULT_QUEUES = frozenset({"fail_next", "fail_next_after_apply"})
CONFIG_SETTINGS = (
    FLOAT_SETTINGS | INT_SETTINGS | BOOL_SETTINGS | LIST_SETTINGS | set(CHOICE_SETTINGS)
)
SETTING_NAMES = CONFIG_SETTINGS | FAULT_QUEUES


def parse_setting_changes(
    changes: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, list[ScriptedFault]]]:
    """Split and check changes into config fields and fault queues; raise ValueError if bad."""
    unknown = set(changes) - SETTING_NAMES
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    config_changes: dict[str, Any] = {}
    queues: dict[str, list[ScriptedFault]] = {}
    for name, value in changes.items():
        if name in FAULT_QUEUES:
            queues[name] = parse_scripted_faults(value)
        else:
            config_changes[name] = _checked(name, value)
    return config_changes, queues


def live_settings_json(
    config: EmulatorConfig,
    *,
    fail_next: list[ScriptedFault],
    fail_next_after_apply: list[ScriptedFault],
) -> dict[str, Any]:
    """Describe the live settings as GET /_emulator/settings shows them."""
    snapshot: dict[str, Any] = {name: getattr(config, name) for name in sorted(CONFIG_SETTINGS)}
    for name in LIST_SETTINGS:
        snapshot[name] = list(snapshot[name])
    snapshot["fail_next"] = [fault.to_json() for fault in fail_next]
    snapshot["fail_next_after_apply"] = [fault.to_json() for fault in fail_next_after_apply]
    return snapshot


def _checked(name: str, value: Any) -> Any:
    if name in CHOICE_SETTINGS:
        if value not in CHOICE_SETTINGS[name]:
            raise ValueError(f"{name} must be one of {list(CHOICE_SETTINGS[name])}")
        return value
    if name in BOOL_SETTINGS:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if name in LIST_SETTINGS:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list")
        item_type = int if name == "command_allowlist" else str
        if not all(isinstance(v, item_type) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{name} must be a list of {item_type.__name__}")
        if name == "stall_methods":
            return tuple(v.upper() for v in value)
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if name == "auth_failure_status":
        if value not in (401, 403):
            raise ValueError("auth_failure_status must be 401 or 403")
        return int(value)
    if name == "message_limit_cap":
        if int(value) != value or value < 1:
            raise ValueError("message_limit_cap must be a positive integer")
        return int(value)
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    if name in ("fail_rate", "stall_share") and value > 1:
        raise ValueError(f"{name} must be between 0 and 1")
    if name in ("token_ttl", "heartbeat_missed_after_s") and value <= 0:
        raise ValueError(f"{name} must be positive")
    return float(value)
