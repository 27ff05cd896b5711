"""Deployment groups: the platform is the truth, a local copy lets phones pick one offline."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from app.database import db, insert_on_conflict, utcnow
from app.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from app.models.devices import DeploymentGroup
from app.platform import errors as platform_errors
from app.platform.interface import UNASSIGNED, Platform

_GROUPS = DeploymentGroup.__table__

CONVENTION = re.compile(r"^(pr|rd|dm|un)([a-z]{2})00[a-z0-9]+$")
CONVENTION_HELP = (
    "Convention: environment (pr, rd, dm or un), ISO country code (or xx), 00, then your own "
    "id, e.g. prfi00haltianhq."
)


@dataclass
class GroupList:
    groups: list[DeploymentGroup]
    source: str  # platform | cache
    synced_at: datetime | None
    message: str | None = None


def normalise_group_id(raw: str) -> str:
    """Lowercase and strip what the platform does not accept, as Haltian's apps do."""
    group_id = re.sub(r"[^a-z0-9]", "", raw.strip().lower())
    if not group_id:
        raise Unprocessable("A group id needs letters or digits.", {"field": "group_id"})
    if len(group_id) > 64:
        raise Unprocessable("A group id is at most 64 characters.", {"field": "group_id"})
    if group_id == UNASSIGNED:
        raise Unprocessable("'unassigned' is reserved; pick another id.", {"field": "group_id"})
    return group_id


def follows_convention(group_id: str) -> bool:
    """Whether the id follows Haltian's naming convention (advice, not a rule)."""
    return bool(CONVENTION.match(group_id))


GROUP_CREATORS = ("supervisor", "admin")


def may_create_groups(role: str, technicians_allowed: bool) -> bool:
    """Return whether a user of `role` may create deployment groups."""
    return role in GROUP_CREATORS or (technicians_allowed and role == "technician")


def _translate(exc: platform_errors.PlatformError) -> Exception:
    if isinstance(exc, platform_errors.NotFound):
        return NotFound(f"No such deployment group on the platform: {exc.message}")
    if isinstance(exc, platform_errors.Conflict):
        return Conflict(f"That group id is taken: {exc.message}")
    if isinstance(exc, platform_errors.ValidationFailed):
        return Unprocessable(f"The platform refused the group: {exc.message}")
    return ServiceUnavailable(
        f"The platform is unreachable ({exc.message}); try again when online."
    )


def _remember_groups(descriptions: dict[str, str | None], now: datetime) -> None:
    """Upsert the cache rows, in id order: two phones listing groups at once both found a new
    group missing and both inserted it, and the second insert failed the request with a 500."""
    if not descriptions:
        return
    connection = db.session.connection()
    statement = insert_on_conflict(_GROUPS, connection.dialect.name)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["group_id"],
            set_={
                "description": statement.excluded.description,
                "synced_at": statement.excluded.synced_at,
            },
        ),
        [
            {"group_id": group_id, "description": descriptions[group_id], "synced_at": now}
            for group_id in sorted(descriptions)
        ],
    )


def list_groups(platform: Platform) -> GroupList:
    """Return groups from the platform (refreshing the cache) or from the cache when offline."""
    try:
        groups = platform.list_groups()
    except platform_errors.PlatformError as exc:
        cached = list(
            db.session.scalars(select(DeploymentGroup).order_by(DeploymentGroup.group_id))
        )
        synced = max((g.synced_at for g in cached), default=None)
        return GroupList(cached, "cache", synced, f"Platform unreachable: {exc.message}")
    now = utcnow()
    seen = {g.group_id for g in groups}
    db.session.execute(delete(DeploymentGroup).where(DeploymentGroup.group_id.not_in(seen)))
    _remember_groups({g.group_id: g.description for g in groups}, now)
    db.session.commit()
    rows = list(db.session.scalars(select(DeploymentGroup).order_by(DeploymentGroup.group_id)))
    return GroupList(rows, "platform", now)


def create_group(platform: Platform, raw_id: str, description: str | None) -> DeploymentGroup:
    """Create a group on the platform and in the cache."""
    group_id = normalise_group_id(raw_id)
    try:
        created = platform.create_group(group_id, description or None)
    except platform_errors.PlatformError as exc:
        raise _translate(exc) from exc
    _remember_groups({created.group_id: created.description}, utcnow())
    db.session.commit()
    row = db.session.get(DeploymentGroup, created.group_id, populate_existing=True)
    assert row is not None  # written just above
    return row


def rename_group(platform: Platform, group_id: str, raw_new_id: str) -> DeploymentGroup:
    """Rename a group on the platform (members move with it) and in the cache."""
    new_id = normalise_group_id(raw_new_id)
    try:
        platform.rename_group(group_id, new_id)
    except platform_errors.PlatformError as exc:
        raise _translate(exc) from exc
    old = db.session.get(DeploymentGroup, group_id)
    description = old.description if old else None
    if old is not None:
        db.session.delete(old)
    row = DeploymentGroup(group_id=new_id, description=description, synced_at=utcnow())
    db.session.merge(row)
    db.session.commit()
    return db.session.get(DeploymentGroup, new_id)  # type: ignore[return-value]


def delete_group(platform: Platform, group_id: str) -> None:
    """Delete a group on the platform (its devices become unassigned) and from the cache."""
    if group_id == UNASSIGNED:
        raise Unprocessable("'unassigned' cannot be deleted.")
    try:
        platform.delete_group(group_id)
    except platform_errors.PlatformError as exc:
        raise _translate(exc) from exc
    db.session.execute(delete(DeploymentGroup).where(DeploymentGroup.group_id == group_id))
    db.session.commit()
