"""Write what we know of devices into the local cache, always in TUID order.

Ingest, bulk confirm and the sync worker all write `devices` rows, in transactions that touch
many devices at once. Rows locked in different orders by two transactions deadlock (ingest's
UPDATE against the worker's upsert did, on PostgreSQL); one upsert with its rows sorted by TUID
locks them in one global order everywhere, new rows included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from app.database import insert_on_conflict
from app.labels.device_types import device_type_for
from app.models.devices import Device

_DEVICES = Device.__table__
SOURCE_LOCAL = "local"  # what an action will make true, not yet confirmed by the platform
SOURCE_PLATFORM = "platform"  # read from or confirmed by the platform
# The column a step's action sets (a copy_group's value is the group it copied).
DEVICE_COLUMNS = {"set_status": "status", "set_group": "group_id", "copy_group": "group_id"}


@lru_cache(maxsize=4)
def _upsert(dialect: str) -> Insert:
    statement = insert_on_conflict(_DEVICES, dialect)
    # None means "unchanged": one statement serves status and group values.
    return statement.on_conflict_do_update(
        index_elements=["tuid"],
        set_={
            "status": func.coalesce(statement.excluded.status, _DEVICES.c.status),
            "group_id": func.coalesce(statement.excluded.group_id, _DEVICES.c.group_id),
            "source": statement.excluded.source,
            "updated_at": statement.excluded.updated_at,
        },
    )


def remember_devices(
    session: Session,
    values: Mapping[str, Mapping[str, str | None]],
    *,
    source: str,
    now: datetime,
) -> None:
    """Upsert status/group per TUID (None keeps the stored value), locking rows in TUID order."""
    if not values:
        return
    connection = session.connection()
    connection.execute(
        _upsert(connection.dialect.name),
        [
            {
                "tuid": tuid,
                "device_type": device_type_for(tuid),
                "status": values[tuid].get("status"),
                "group_id": values[tuid].get("group_id"),
                "source": source,
                "updated_at": now,
            }
            for tuid in sorted(values)
        ],
    )
