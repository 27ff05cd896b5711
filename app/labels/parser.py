"""Read a Thingsee device label's text into a TUID (spec §4).

The rules, in the order they are applied (the PWA's TypeScript parser follows the same rules
and is tested against the same file, tests/fixtures/label_cases.json):

1. Trim the characters in TRIM_CHARS from both ends. Nothing left: reject ``empty``.
2. An encrypted stack-setup code (base64 of AES blocks, see `_looks_like_stack_setup`) is
   rejected as ``stack_setup_code`` before anything else, because its base64 alphabet
   includes "/" and could otherwise pass for a path.
3. Upper-case ASCII letters only (so no Unicode case folding can turn a look-alike into "I").
4. Accepted forms, first match wins:
   - legacy ``PSN,IMC[,...]``: split on ","; fields 1 and 2, each trimmed, are 11 and 6
     characters and neither contains "#". TUID = IMC + PSN; further fields are ignored.
   - markers: every non-empty ","-separated field, trimmed, is ``<letter>#<value>``. Exactly
     one ``I#`` (the 6-character IMC) and one ``S#`` (the serial) are required; ``W#`` and
     other letters are ignored. TUID = IMC + serial.
   - URL or path: the text contains "/". Drop everything from the first "?" or "#"; if it
     contains "://", drop the scheme and the host (up to the next "/"); the TUID is the last
     non-empty "/"-separated segment.
   - bare TUID: anything else is taken as is.
   Every TUID must match ``^[A-Z0-9]{17}$``; otherwise the text is rejected with the reason
   of the form it was read as (see `_reject_*`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.errors import Unprocessable
from app.labels.device_types import device_type_for

LabelFormat = Literal["legacy", "markers", "url", "tuid"]

TUID_RE = re.compile(r"^[A-Z0-9]{17}\Z")
IMC_LENGTH = 6
PSN_LENGTH = 11
TRIM_CHARS = " \t\n\r\v\f\u00a0\ufeff"

_MARKER_RE = re.compile(r"^([A-Z])#(.*)$", re.DOTALL)
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_CUSTOMER_LABEL_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
_SEPARATORS_RE = re.compile(r"[ \t._-]")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_SCAN_OR_TYPE = "Scan the label on the device, or type the 17-character ID printed under the code."

REASONS: dict[str, str] = {
    "empty": "Nothing was read. " + _SCAN_OR_TYPE,
    "stack_setup_code": (
        "This is a stack setup code for the installer app, not a device label. " + _SCAN_OR_TYPE
    ),
    "customer_label": (
        "This is a customer's own label, not the Thingsee device label. " + _SCAN_OR_TYPE
    ),
    "bad_markers": (
        "This label is missing part of the device ID (its I# or S# field is absent or wrong). "
        + _SCAN_OR_TYPE
    ),
    "bad_characters": (
        "A device ID has only letters and digits: no spaces, dashes or other signs. "
        + _SCAN_OR_TYPE
    ),
    "wrong_length": "A device ID has exactly 17 letters and digits. " + _SCAN_OR_TYPE,
    "web_link": "This QR code is a web link without a device ID. " + _SCAN_OR_TYPE,
    "not_a_device_label": "This QR code is not a Thingsee device label. " + _SCAN_OR_TYPE,
}


class LabelError(Unprocessable):
    """The text is not a Thingsee device label; `reason` says which rule it broke."""

    code = "not_a_device_label"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class ParsedLabel:
    """A device label read into its TUID, IMC, PSN and device type."""

    tuid: str
    imc: str
    psn: str
    device_type: str
    format: LabelFormat

    def to_dict(self) -> dict[str, str]:
        """Return the API's Label shape."""
        return {
            "tuid": self.tuid,
            "imc": self.imc,
            "psn": self.psn,
            "device_type": self.device_type,
            "format": self.format,
        }


def parse_label(text: str) -> ParsedLabel:
    """Read label text (legacy, markers, URL/path or bare TUID) or raise LabelError."""
    trimmed = text.strip(TRIM_CHARS)
    if not trimmed:
        raise _error("empty")
    if _looks_like_stack_setup(trimmed):
        raise _error("stack_setup_code")
    upper = trimmed.translate(_ASCII_UPPER)
    fields = [field.strip(TRIM_CHARS) for field in upper.split(",")]

    if len(fields) >= 2 and _is_legacy(fields):
        return _label(fields[1] + fields[0], "legacy", "bad_characters")
    if _is_markers(fields):
        return _label(_markers_tuid(fields), "markers", "bad_markers")
    if "/" in upper:
        return _label(_url_last_segment(upper), "url", "web_link")
    if TUID_RE.match(upper):
        return _label(upper, "tuid", "")
    raise _bare_error(upper)


def format_label_text(tuid: str) -> str:
    """Return the legacy label text ``PSN,IMC`` printed into a label's QR code."""
    label = parse_label(tuid)
    if label.format != "tuid":
        raise _error("not_a_device_label")
    return f"{label.psn},{label.imc}"


def _error(reason: str, hint: str = "") -> LabelError:
    return LabelError(hint + REASONS[reason], reason)


def _label(tuid: str, form: LabelFormat, reason: str) -> ParsedLabel:
    if not TUID_RE.match(tuid):
        raise _error(reason)
    return ParsedLabel(
        tuid=tuid,
        imc=tuid[:IMC_LENGTH],
        psn=tuid[IMC_LENGTH:],
        device_type=device_type_for(tuid),
        format=form,
    )


def _looks_like_stack_setup(text: str) -> bool:
    """Tell whether text is base64 of whole AES blocks, as the apps' stack-setup codes are."""
    if len(text) < 24 or len(text) % 4 or not _BASE64_RE.match(text):
        return False
    padding = len(text) - len(text.rstrip("="))
    return (len(text) // 4 * 3 - padding) % 16 == 0


def _is_legacy(fields: list[str]) -> bool:
    psn, imc = fields[0], fields[1]
    return len(psn) == PSN_LENGTH and len(imc) == IMC_LENGTH and "#" not in psn + imc


def _is_markers(fields: list[str]) -> bool:
    present = [field for field in fields if field]
    return bool(present) and all(_MARKER_RE.match(field) for field in present)


def _markers_tuid(fields: list[str]) -> str:
    """Return IMC + serial from the I# and S# fields, or "" when they are absent or repeated."""
    values: dict[str, list[str]] = {}
    for field in fields:
        match = _MARKER_RE.match(field)
        if match:
            values.setdefault(match.group(1), []).append(match.group(2).strip(TRIM_CHARS))
    imcs, serials = values.get("I", []), values.get("S", [])
    if len(imcs) != 1 or len(serials) != 1 or len(imcs[0]) != IMC_LENGTH:
        return ""
    return imcs[0] + serials[0]


def _url_last_segment(text: str) -> str:
    path = re.split(r"[?#]", text, maxsplit=1)[0]
    if "://" in path:
        after_scheme = path.split("://", 1)[1]
        path = after_scheme.split("/", 1)[1] if "/" in after_scheme else ""
    segments = [segment for segment in path.split("/") if segment]
    return segments[-1] if segments else ""


def _bare_error(text: str) -> LabelError:
    """Say why a single value is not a TUID, as precisely as the text allows."""
    if re.fullmatch(r"[A-Z0-9]+", text):
        return _error("wrong_length", f"This ID has {len(text)} characters. ")
    joined = _SEPARATORS_RE.sub("", text)
    if TUID_RE.match(joined):
        return _error("bad_characters", f"Did you mean {joined}? ")
    if _CUSTOMER_LABEL_RE.match(text):
        return _error("customer_label")
    return _error("not_a_device_label")
