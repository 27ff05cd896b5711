"""Bounded input types: every number and time a request carries stays in a range we can hold.

Request models (app/api) and the operation parser (app/services/operations) build their fields
from these, so an integer the database cannot store, or a date whose UTC value falls outside
Python's calendar, is a 422 naming the field rather than an overflow deep in a query.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

from app.database import utcnow

MAX_ROW_ID = 2**31 - 1  # the id columns are INTEGER: 32 bits on PostgreSQL
MAX_PAGE_NUMBER = 1_000_000  # page x size stays far inside an OFFSET the database accepts

# Dates a query may name: wide enough for any real filter, narrow enough that a day more or
# a zone's 14 hours never leave the calendar.
QUERY_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
QUERY_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_QUERY_RANGE = {"earliest": "2000-01-01", "latest": "2100-01-01"}

# An action's device_time: no phone recorded one before the product existed, and a clock more
# than a day ahead of ours is wrong.
DEVICE_TIME_EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)
DEVICE_TIME_AHEAD = timedelta(days=1)

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID, description="a row id")]
Count = Annotated[int, Field(ge=0, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Field(ge=0, le=MAX_PAGE_NUMBER, description="0-based page number")]


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "datetime_out_of_range", "this time is outside the calendar once taken to UTC"
        ) from None


def _query_time(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime):
        inside = QUERY_EARLIEST <= _as_utc(value) < QUERY_LATEST
    else:
        inside = QUERY_EARLIEST.date() <= value < QUERY_LATEST.date()
    if not inside:
        raise PydanticCustomError(
            "datetime_out_of_range",
            "a date or time from {earliest} up to {latest} is expected",
            _QUERY_RANGE,
        )
    return value


def _device_time(value: datetime) -> datetime:
    utc = _as_utc(value)
    if utc < DEVICE_TIME_EARLIEST:
        raise PydanticCustomError(
            "device_time_out_of_range",
            "this time is before 2015: the phone's clock may be wrong; set its date and time "
            "and record the action again",
        )
    if utc > utcnow() + DEVICE_TIME_AHEAD:
        raise PydanticCustomError(
            "device_time_out_of_range",
            "this time is more than a day ahead of the server's clock: the phone's clock may "
            "be wrong; set its date and time and record the action again",
        )
    return value


QueryInstant = Annotated[AwareDatetime, AfterValidator(_query_time)]
QueryTime = Annotated[AwareDatetime | date, AfterValidator(_query_time)]  # a date: its whole day
DeviceTime = Annotated[AwareDatetime, AfterValidator(_device_time)]


def in_id_range(value: int) -> bool:
    """Tell whether an integer fits the database's id columns."""
    return -MAX_ROW_ID - 1 <= value <= MAX_ROW_ID


def in_datetime_range(value: datetime) -> bool:
    """Tell whether an aware time has a UTC value inside the calendar."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True
