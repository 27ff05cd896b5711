"""Reading platform answers defensively: typed values out of loose JSON, messages out of errors."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from app.platform.errors import MalformedResponse, ValidationFailed
from app.platform.interface import INSTALLATION_STATUSES

MESSAGE_MAX_CHARS = 300
_MESSAGE_KEYS = ("message", "Message", "error", "errorMessage", "msg")


def segment(value: str, what: str) -> str:
    """Percent-encode one path segment (a device or group id), refusing an empty one."""
    if not isinstance(value, str) or not value:
        raise ValidationFailed(f"{what} must be a non-empty string")
    if value.strip(".") == "":
        # "." and ".." would be resolved as dot segments and address another resource.
        return value.replace(".", "%2E")
    return quote(value, safe="")


def int_or_none(value: Any) -> int | None:
    """Return an int from a number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def float_or_none(value: Any) -> float | None:
    """Return a finite float from a number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def str_or_none(value: Any) -> str | None:
    """Return the value if it is a string, else None."""
    return value if isinstance(value, str) else None


def expect_dict(value: Any) -> dict[str, Any]:
    """Return the value if it is a JSON object, else raise MalformedResponse."""
    if not isinstance(value, dict):
        raise MalformedResponse(f"expected an object, got {type(value).__name__}")
    return value


def expect_list(value: Any) -> list[Any]:
    """Return the value if it is a JSON array (None reads as empty), else raise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"expected a list, got {type(value).__name__}")
    return value


def expect_str(value: Any, name: str) -> str:
    """Return the value if it is a string, else raise MalformedResponse naming the field."""
    if not isinstance(value, str):
        raise MalformedResponse(f"{name} is not a string: {type(value).__name__}")
    return value


def json_or_none(response: httpx.Response) -> Any:
    """Return the parsed body, or None when it is empty or not JSON."""
    try:
        text = response.text.strip()
        return json.loads(text) if text else None
    except (ValueError, UnicodeDecodeError):
        return None


def error_message(response: httpx.Response) -> str:
    """Return a human message from any error body: JSON with a message field, or plain text."""
    body = json_or_none(response)
    if isinstance(body, dict):
        for key in _MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:MESSAGE_MAX_CHARS]
    try:
        text = response.text.strip()
    except UnicodeDecodeError:
        text = ""
    if text and body is None and not text.lstrip().startswith("<"):
        return text[:MESSAGE_MAX_CHARS]
    reason = response.reason_phrase or "error"
    return f"HTTP {response.status_code} {reason}"


def retry_after(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Parse Retry-After as delta seconds or an HTTP-date; None when missing or unreadable."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - now()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def checked_status(status: str) -> str:
    """Return the installation status if it is one of ours, else raise ValidationFailed."""
    if status not in INSTALLATION_STATUSES:
        raise ValidationFailed(
            f"installation_status must be one of {', '.join(INSTALLATION_STATUSES)}; got {status!r}"
        )
    return status
