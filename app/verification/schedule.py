"""Start watching the devices that synced installs put in service (one row per operation)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from app.database import insert_on_conflict, utcnow
from app.labels.device_types import device_type_for
from app.models.operations import Operation, OutboxStep
from app.models.verifications import (
    SILENT,
    SUPERSEDED,
    UNAVAILABLE,
    WAITING,
    WITHDRAWN,
    InstallVerification,
)
from app.verification.watch import WatchPolicy

INSTALLING_KINDS = ("install", "replace")
_VERIFICATIONS = InstallVerification.__table__
_INSTALLS = select(
    Operation.id,
    Operation.kind,
    Operation.tuid,
    Operation.args,
    Operation.user_id,
    Operation.device_time,
).where(Operation.id.in_(bindparam("ids", expanding=True)), Operation.kind.in_(INSTALLING_KINDS))
# A synced step that takes the device out of service after the install (a remove, a retire or
# quarantine, a replaced device, an undo of the install): waiting for it to report would only
# raise a false alarm.
_TAKEN_OUT = (
    select(OutboxStep.id)
    .where(
        OutboxStep.operation_id.in_(bindparam("ids", expanding=True)),
        OutboxStep.action == "set_status",
        OutboxStep.value != "installed",
        OutboxStep.tuid == InstallVerification.tuid,
        OutboxStep.order_at > InstallVerification.installed_at,
    )
    .exists()
)
_COPIED_GROUPS = select(OutboxStep.operation_id, OutboxStep.result).where(
    OutboxStep.operation_id.in_(bindparam("ids", expanding=True)),
    OutboxStep.action == "copy_group",
)


def installed_device(kind: str, tuid: str, args: dict[str, Any] | None) -> str:
    """Return the device an installing operation put in service (a replace's new one)."""
    if kind == "replace":
        return str((args or {}).get("new_tuid") or tuid)
    return tuid


class InstallWatcher:
    """Owe a verification to every install and replacement among newly synced operations."""

    def __init__(self, policy: WatchPolicy, clock: Callable[[], datetime] = utcnow) -> None:
        self.policy = policy
        self.clock = clock

    def watch(self, session: Session, operation_ids: Sequence[int]) -> int:
        """Insert a verification per installing operation (none twice) and stop watching the
        devices these operations took out of service; return how many were inserted."""
        if not operation_ids:
            return 0
        ids = sorted(operation_ids)
        now = self.clock()
        inserted = self._watch_installs(session, ids, now)
        self._withdraw(session, ids, now)
        return inserted

    def _withdraw(self, session: Session, ids: list[int], now: datetime) -> None:
        """End the watch (and a silent flag) of installs that a later synced action undid."""
        session.execute(
            _VERIFICATIONS.update()
            .where(_VERIFICATIONS.c.state.in_((WAITING, SILENT)), _TAKEN_OUT)
            .values(state=WITHDRAWN, due_at=None, lease_owner=None, updated_at=now),
            {"ids": ids},
        )

    def _watch_installs(self, session: Session, ids: list[int], now: datetime) -> int:
        installs = list(session.execute(_INSTALLS, {"ids": ids}))
        if not installs:
            return 0
        replaced = [r.id for r in installs if r.kind == "replace"]
        copied: dict[int, str | None] = {}
        if replaced:
            copied = {
                r.operation_id: r.result for r in session.execute(_COPIED_GROUPS, {"ids": replaced})
            }
        rows = []
        for op in installs:
            tuid = installed_device(op.kind, op.tuid, op.args)
            device_type = device_type_for(tuid)
            watch = self.policy.for_type(device_type)
            group = (op.args or {}).get("group_id") if op.kind == "install" else copied.get(op.id)
            available = self.policy.available
            rows.append(
                {
                    "operation_id": op.id,
                    "tuid": tuid,
                    "user_id": op.user_id,
                    "group_id": group,
                    "device_type": device_type,
                    "installed_at": op.device_time,
                    "deadline_at": op.device_time + timedelta(seconds=watch.window_s),
                    "state": WAITING if available else UNAVAILABLE,
                    "due_at": watch.first_look(op.device_time, now, op.id) if available else None,
                    "looks": 0,
                    "late_looks_left": 1,
                    "failures": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        rows.sort(key=lambda r: (r["tuid"], r["installed_at"]))
        # An earlier install of the same device still being watched is watched no more.
        for row in rows:
            session.execute(
                _VERIFICATIONS.update()
                .where(
                    and_(
                        _VERIFICATIONS.c.tuid == row["tuid"],
                        _VERIFICATIONS.c.state == WAITING,
                        _VERIFICATIONS.c.installed_at < row["installed_at"],
                    )
                )
                .values(state=SUPERSEDED, due_at=None, lease_owner=None, updated_at=now)
            )
        connection = session.connection()
        statement = insert_on_conflict(_VERIFICATIONS, connection.dialect.name)
        connection.execute(statement.on_conflict_do_nothing(index_elements=["operation_id"]), rows)
        return len(rows)
