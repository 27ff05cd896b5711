"""Paged, sorted lists the way every list endpoint answers (design.md, API conventions).

`sort` values follow the seed's conventions: `field,asc`, `field desc`, `a,b asc` (both fields
ascending) or a bare `field`. A bare field sorts descending, as the seed documents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from app.database import db
from app.errors import Unprocessable

T = TypeVar("T")
U = TypeVar("U")

MAX_PAGE_SIZE = 500
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass
class Page(Generic[T]):
    """One page of a list plus what the client needs to page on."""

    items: list[T]
    total: int
    number: int
    size: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.size) if self.size else 0

    @property
    def last(self) -> bool:
        return (self.number + 1) * self.size >= self.total

    def map(self, serialise: Callable[[T], U]) -> Page[U]:
        """Return the same page with each item serialised."""
        return Page([serialise(item) for item in self.items], self.total, self.number, self.size)

    def json(self, serialise: Callable[[T], Any] | None = None) -> dict[str, Any]:
        """Return the page in the list shape of the API conventions."""
        items = [serialise(i) for i in self.items] if serialise else list(self.items)
        return {
            "items": items,
            "totalElements": self.total,
            "totalPages": self.total_pages,
            "number": self.number,
            "size": self.size,
            "last": self.last,
        }


def parse_sort(values: Iterable[str], allowed: Iterable[str]) -> list[SortKey]:
    """Turn `sort` query values into sort keys; raise Unprocessable on an unknown field."""
    allowed = tuple(allowed)
    keys: list[SortKey] = []
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        direction = "desc"
        head, _, tail = text.rpartition(" ")
        if head and tail.lower() in DIRECTIONS:
            text, direction = head, tail.lower()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > 1 and parts[-1].lower() in DIRECTIONS:
            direction = parts.pop().lower()
        for field in parts:
            if field not in allowed:
                raise Unprocessable(
                    f"Cannot sort by '{field}'; use one of {', '.join(allowed)}.",
                    {"field": "sort", "allowed": list(allowed)},
                )
            keys.append(SortKey(field, direction == "desc"))
    return keys


def order_by(
    query: Select[Any],
    keys: Sequence[SortKey],
    columns: Mapping[str, Any],
    tiebreak: Any,
) -> Select[Any]:
    """Apply sort keys, then a unique tiebreak so pages never overlap or skip rows."""
    clauses = [columns[k.field].desc() if k.descending else columns[k.field].asc() for k in keys]
    last_desc = keys[-1].descending if keys else True
    clauses.append(tiebreak.desc() if last_desc else tiebreak.asc())
    return query.order_by(*clauses)


def count(query: Select[Any]) -> int:
    """Return how many rows the (unordered) query selects."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)
