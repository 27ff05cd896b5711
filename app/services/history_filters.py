"""What a supervisor can narrow the install history to, as SQL that stays fast at a million rows.

Most filters are a condition on the operation's own columns. Two match an operation either
through its own columns or through its outbox steps: the group (seen in it, or put into it by a
set_group step or a replacement's copied group) and the TUID substring (the device, or the
replacement a copy_group step runs on). `tuid LIKE x OR id IN (steps...)` makes PostgreSQL test
every operation against the steps' ids, so each way of matching becomes a branch of a UNION that
reads its rows through its own index (bench/scale.py: 550 ms -> 20 ms for a TUID at 1,000,000
operations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import product
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    or_,
    select,
    union,
    union_all,
)

from app.models.operations import DRIFT_REPAIRED, STEP_PENDING, SYNCING, Operation, OutboxStep
from app.models.users import User
from app.models.verifications import InstallVerification
from app.services import paging
from app.services.paging import bounded_count

# One 429 or a short outage is retried away unnoticed; this many failed tries in a row is worth
# a supervisor's look (the platform may be down, or this device's calls keep failing).
STILL_RETRYING_AFTER_ATTEMPTS = 3
ID_PUNCTUATION = "-_"  # besides letters and digits, in some platforms' device ids


@dataclass
class HistoryFilter:
    """What the supervisor narrowed the history down to; empty fields do not filter."""

    technician: str | None = None  # username, case-insensitive
    group: str | None = None
    kinds: Sequence[str] = ()
    states: Sequence[str] = ()
    date_from: datetime | None = None  # inclusive
    date_to: datetime | None = None  # exclusive
    date_field: str = "device_time"
    tuid: str | None = None  # case-insensitive substring of the device or the replacement
    bulk_job_id: int | None = None
    still_retrying: bool = False  # also operations the worker keeps retrying (beside `states`)
    drift_repaired: bool = False  # also operations whose drift the worker repaired (evidence)
    verification: Sequence[str] = ()  # install verification states (app.models.verifications)


def still_retrying() -> ColumnElement[bool]:
    """Operations the worker keeps retrying: a waiting step has failed this many times."""
    stuck_step = select(OutboxStep.id).where(
        OutboxStep.operation_id == Operation.id,
        OutboxStep.state == STEP_PENDING,
        OutboxStep.attempts >= STILL_RETRYING_AFTER_ATTEMPTS,
    )
    return and_(Operation.state == SYNCING, Operation.error_code == "retrying", exists(stuck_step))


def _conditions(flt: HistoryFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions on the operation's own columns."""
    conditions: list[ColumnElement[bool]] = []
    if flt.technician:
        name = flt.technician.strip().lower()
        conditions.append(
            Operation.user_id.in_(select(User.id).where(func.lower(User.username) == name))
        )
    if flt.kinds:
        conditions.append(Operation.kind.in_(list(flt.kinds)))
    if flt.states or flt.still_retrying or flt.drift_repaired:
        wanted: list[ColumnElement[bool]] = (
            [Operation.state.in_(list(flt.states))] if flt.states else []
        )
        if flt.still_retrying:
            wanted.append(still_retrying())
        if flt.drift_repaired:
            wanted.append(Operation.error_code == DRIFT_REPAIRED)
        conditions.append(or_(*wanted))
    if flt.bulk_job_id is not None:
        conditions.append(Operation.bulk_job_id == flt.bulk_job_id)
    if flt.verification:
        conditions.append(
            Operation.id.in_(
                select(InstallVerification.operation_id).where(
                    InstallVerification.state.in_(list(flt.verification))
                )
            )
        )
    date_column = (
        Operation.received_at if flt.date_field == "received_at" else Operation.device_time
    )
    if flt.date_from is not None:
        conditions.append(date_column >= flt.date_from)
    if flt.date_to is not None:
        conditions.append(date_column < flt.date_to)
    return conditions


def _steps(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    # IN, not a correlated EXISTS: SQLite then reads the few steps and looks their operations
    # up, where for EXISTS it would test every operation (PostgreSQL plans both alike).
    return Operation.id.in_(select(OutboxStep.operation_id).where(*conditions))


def _alternatives(flt: HistoryFilter) -> list[list[ColumnElement[bool]]]:
    """For each filter an operation meets in one of several ways: those ways."""
    alternatives = []
    if flt.group:
        group = flt.group.strip().lower()
        alternatives.append(
            [
                Operation.seen_group == group,
                _steps(OutboxStep.action == "set_group", OutboxStep.value == group),
                _steps(OutboxStep.action == "copy_group", OutboxStep.result == group),
            ]
        )
    if flt.tuid:
        # Device ids are stored upper-cased, of letters, digits, "-" and "_" (app.labels.
        # device_ids): anything else cannot match, and "_" is no LIKE wildcard here. On
        # PostgreSQL a trigram index answers it.
        fragment = "".join(ch for ch in flt.tuid.upper() if ch.isalnum() or ch in ID_PUNCTUATION)
        if not fragment:
            return [[false()]]
        pattern = "%" + fragment.replace("_", "/_") + "%"
        alternatives.append(
            [
                Operation.tuid.like(pattern, escape="/"),
                # The replacement: its copy_group step is the only step whose TUID differs from
                # the operation's (operation_rules.plan_steps).
                _steps(
                    OutboxStep.action == "copy_group", OutboxStep.tuid.like(pattern, escape="/")
                ),
            ]
        )
    return alternatives


def _branches(base: Select[Any], flt: HistoryFilter) -> list[Select[Any]]:
    """The base SELECT narrowed to the filter, once per combination of ways of matching."""
    base = base.where(*_conditions(flt))
    return [base.where(*ways) for ways in product(*_alternatives(flt))]


def count_matching(flt: HistoryFilter, past_bound: int | None = None) -> tuple[int, bool]:
    """Return how many operations the filter matches, and whether that is exact.

    Exact up to paging.COUNT_EXACT_UP_TO, else an estimate. The ways of matching are counted
    as a UNION ALL, which stops once past the bound, where a UNION would collect every match.
    `past_bound`: the filter is already known to match more, at least this many.
    """
    branches = _branches(select(Operation.id.label("id")), flt)
    if len(branches) == 1:
        query, distinct = branches[0], False
    else:
        query, distinct = select(union_all(*branches).subquery("ways").c.id), True
    if past_bound is not None:
        return paging.past_the_bound(query, past_bound, distinct=distinct)
    return bounded_count(query, distinct=distinct)


def matching(
    columns: Sequence[Any],
    flt: HistoryFilter,
    *,
    with_users: bool = False,
    many: bool = False,
) -> Select[Any]:
    """SELECT these columns of every operation the filter matches, each operation once.

    A filter with several ways of matching becomes a UNION of one branch per way, each reading
    its few rows through its own index; the columns must then be comparable (no JSON) and
    include the operation id. When it matches `many` operations, the ways are ORed instead: the
    database walks the sort's index testing each operation and stops after a page, rather than
    collecting and sorting every match. `with_users` joins the technician's row.
    """
    base = select(*columns).select_from(Operation)
    if with_users:
        base = base.join(User, User.id == Operation.user_id)
    if many:
        base = base.where(*_conditions(flt))
        return base.where(*(or_(*ways) for ways in _alternatives(flt)))
    branches = _branches(base, flt)
    if len(branches) == 1:
        return branches[0]
    return select(*union(*branches).subquery("matching").c)


def matching_counted(
    columns: Sequence[Any], flt: HistoryFilter, *, with_users: bool = False
) -> Select[Any] | None:
    """matching() and count_matching() in one statement, for a filter with several ways of
    matching (None for the others): the SELECT of the columns of every operation it matches,
    each once, followed by two columns counting the ways' rows and the operations matched.

    Counting and paging read the same branches; apart, the group filter read its 9,000 rows
    twice (bench/scale.py). The ways' rows are collected up to COUNT_EXACT_UP_TO + 1: when the
    first count is past that, the rows are not all there and the caller pages the usual way.
    """
    base = select(*columns).select_from(Operation)
    if with_users:
        base = base.join(User, User.id == Operation.user_id)
    branches = _branches(base, flt)
    if len(branches) == 1:
        return None
    found = (
        select(*union_all(*branches).subquery("ways").c)
        .limit(paging.COUNT_EXACT_UP_TO + 1)
        .cte("found")
    )
    rows = select(func.count()).select_from(found).scalar_subquery()
    matched = select(func.count(found.c[0].distinct())).scalar_subquery()
    each_once = select(*found.c).distinct().subquery("matching")
    return select(*each_once.c, rows.label("ways_rows"), matched.label("matched"))


def narrowed(query: Select[Any], flt: HistoryFilter) -> Select[Any]:
    """Narrow any SELECT over operations (its columns may be JSON) to the filter."""
    if not _alternatives(flt):
        return query.where(*_conditions(flt))
    return query.where(Operation.id.in_(matching([Operation.id], flt)))
