"""Settings an admin changes in the console; until then, the environment's default.

One setting so far: whether technicians may create deployment groups on site (Haltian's
installer lets them). FIELDHAND_TECHNICIANS_CREATE_GROUPS is only its initial value: once an
admin sets it in the console, the database row wins, for every worker at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.database import db, utcnow
from app.models.settings import AdminSetting
from app.models.users import User

TECHNICIANS_CREATE_GROUPS = "technicians_create_groups"
# Each setting: the config key that holds its default.
DEFAULTS = {TECHNICIANS_CREATE_GROUPS: "TECHNICIANS_CREATE_GROUPS"}


@dataclass(frozen=True)
class SettingValue:
    key: str
    value: Any
    default: Any
    changed_by: User | None  # None: still the environment's default, or its admin was deleted
    changed_at: Any


def _default(key: str) -> Any:
    return bool(current_app.config[DEFAULTS[key]])


def get(key: str) -> SettingValue:
    """Return a setting: the admin's value when one was set, else the environment default."""
    row = db.session.get(AdminSetting, key)
    default = _default(key)
    if row is None:
        return SettingValue(key, default, default, None, None)
    changed_by = db.session.get(User, row.updated_by_id) if row.updated_by_id else None
    return SettingValue(key, row.value, default, changed_by, row.updated_at)


def technicians_create_groups() -> bool:
    """Return whether technicians may create deployment groups."""
    return bool(get(TECHNICIANS_CREATE_GROUPS).value)


def set_value(key: str, value: Any, admin: User) -> SettingValue:
    """Store an admin's value for a setting (it overrides the environment from now on)."""
    row = db.session.get(AdminSetting, key)
    if row is None:
        row = AdminSetting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by_id = admin.id
    row.updated_at = utcnow()
    db.session.commit()
    return get(key)
