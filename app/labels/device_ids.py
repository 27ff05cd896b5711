"""What a device id looks like on each platform's labels, keyed by the PLATFORM setting.

Thingsee's TUID rules are app.labels.parser (spec §4) and stay there. The other platforms'
seeds say nothing about labels, so their rules are ASSUMPTIONS (docs/platforms.md), written to
accept what such labels usually carry:

- ThingsMatrix names devices by `sn`, ThingScale by `device_id` (the device's serial): a label
  is the bare id, `key:value` / `key=value` pairs in any order (`SN:12345688922;IMEI:...`), a
  JSON object with the key, or a URL with the key as a query parameter or the id as its last
  path segment.
- thingsHub devices are LoRaWAN devices named by DevEUI: the LoRa Alliance TR005 QR code
  (`LW:D0:<JoinEUI>:<DevEUI>:<ProfileID>...`), the DevEUI with or without separators
  (`70-B3-D5-7E-D0-04-1D-8A`), `DevEUI:` pairs, JSON or a URL as above.

Every id is trimmed and upper-cased (ASCII only) and must match the platform's pattern; what
does not is refused with a LabelError whose reason says why, as for Thingsee. The PWA keeps the
same rules in pwa/src/core/device-ids.ts; both are tested on tests/fixtures/device_id_cases.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from app.labels import parser
from app.labels.parser import TRIM_CHARS, LabelError, ParsedLabel

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PAIR_SEPARATORS = re.compile(r"[,;|&\n]")
_PAIR = re.compile(r"^\s*([A-Za-z_/ ]+?)\s*[:=]\s*(.*?)\s*$", re.DOTALL)
_ID_SEPARATORS = re.compile(r"[\s:._-]")
_TYPED_SEPARATORS = re.compile(r"[ \t._-]")
UNKNOWN_TYPE = "unknown"


@dataclass(frozen=True)
class DeviceLabel:
    """A label read into a device id on a platform without Thingsee's IMC and PSN."""

    tuid: str  # the platform's device id; the API calls every device id `tuid`
    format: str  # id | pairs | json | url | lorawan

    def to_dict(self) -> dict[str, str]:
        """Return the API's Label shape (IMC and PSN are Thingsee's and stay empty)."""
        return {
            "tuid": self.tuid,
            "imc": "",
            "psn": "",
            "device_type": UNKNOWN_TYPE,
            "format": self.format,
        }


class LabelRule(Protocol):
    @property
    def name(self) -> str:
        """What the id is called on the platform."""
        ...

    def parse(self, text: str) -> ParsedLabel | DeviceLabel:
        """Read label text into a device id, or raise LabelError."""
        ...

    def normalise(self, raw: str) -> str:
        """Return a device id in canonical form, or raise LabelError("must be ...")."""
        ...


class ThingseeRule:
    """The TUID rules of app.labels.parser."""

    name = "TUID"

    def parse(self, text: str) -> ParsedLabel | DeviceLabel:
        return parser.parse_label(text)

    def normalise(self, raw: str) -> str:
        # A TUID typed by hand as printed under the code ("TSPR04-EZU31901021", "TSPR04 EZU…"):
        # the separators the label parser would suggest dropping are dropped.
        tuid = _TYPED_SEPARATORS.sub("", raw.strip(TRIM_CHARS)).translate(_ASCII_UPPER)
        if not parser.TUID_RE.match(tuid):
            raise LabelError(f"must be 17 letters and digits (IMC + PSN), got '{raw}'.", "tuid")
        return tuid


@dataclass(frozen=True)
class KeyedIdRule:
    """A platform whose labels carry the id bare or under one of a few keys."""

    name: str  # "ThingsMatrix serial number (sn)"
    keys: frozenset[str]  # lower-case keys that name the id in pairs, JSON and URLs
    pattern: re.Pattern[str]
    alphabet: re.Pattern[str]  # every character allowed: else the length is not the problem
    shape: str  # "4 to 32 letters, digits or dashes"
    lorawan: bool = False  # also read TR005 QR codes, and ids written with separators

    def parse(self, text: str) -> ParsedLabel | DeviceLabel:
        trimmed = text.strip(TRIM_CHARS)
        if not trimmed:
            raise self._error("empty", "Nothing was read.")
        if self.lorawan and trimmed.upper().startswith("LW:"):
            return self._label(_tr005_dev_eui(trimmed), "lorawan", "not_a_device_label")
        in_json = _json_value(trimmed, self.keys)
        if in_json is not None:
            return self._label(in_json, "json", "not_a_device_label")
        if "/" in trimmed and not self.pattern.match(self._canonical(trimmed)):
            return self._label(_url_value(trimmed, self.keys), "url", "web_link")
        keyed, pairs = _pair_value(trimmed, self.keys)
        if len(keyed) > 1:
            raise self._error("two_ids", "This label names more than one device.")
        if keyed:
            return self._label(keyed[0], "pairs", "bad_characters")
        if pairs:
            raise self._error("not_a_device_label", f"This label has no {self.name}.")
        return self._label(trimmed, "id", "")

    def normalise(self, raw: str) -> str:
        candidate = self._canonical(raw)
        if not self.pattern.match(candidate):
            raise LabelError(f"must be a {self.name} ({self.shape}), got '{raw}'.", "id")
        return candidate

    def _canonical(self, text: str) -> str:
        value = text.strip(TRIM_CHARS).translate(_ASCII_UPPER)
        if self.lorawan:
            value = _ID_SEPARATORS.sub("", value)
        return value

    def _label(self, value: str, form: str, reason: str) -> DeviceLabel:
        candidate = self._canonical(value)
        if self.pattern.match(candidate):
            return DeviceLabel(candidate, form)
        if form == "pairs" and not candidate:
            raise self._error("not_a_device_label", f"This label has no {self.name}.")
        if not reason or form == "pairs":
            raise self._bare_error(candidate)
        if reason == "web_link":
            raise self._error(reason, f"This QR code is a web link without a {self.name}.")
        raise self._error(reason, f"This QR code is not a {self.name} label.")

    def _bare_error(self, candidate: str) -> LabelError:
        if not candidate:
            return self._error("empty", "Nothing was read.")
        if self.alphabet.fullmatch(candidate):
            return self._error(
                "wrong_length", f"This ID has {len(candidate)} characters; {self.shape}."
            )
        return self._error("bad_characters", f"This is not a {self.name}: {self.shape}.")

    def _error(self, reason: str, message: str) -> LabelError:
        hint = f"Scan the label on the device, or type its {self.name}."
        return LabelError(f"{message} {hint}", reason)


def _json_value(text: str, keys: frozenset[str]) -> str | None:
    if not text.startswith("{"):
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if (
            str(key).lower() in keys
            and isinstance(value, str | int)
            and not isinstance(value, bool)
        ):
            return str(value)
    return ""


def _pair_value(text: str, keys: frozenset[str]) -> tuple[list[str], bool]:
    """Return the values under our keys, and whether the text is `key:value` pairs at all."""
    found: list[str] = []
    pairs = False
    for part in _PAIR_SEPARATORS.split(text):
        match = _PAIR.match(part)
        if match:
            pairs = True
            if match.group(1).strip().lower() in keys:
                found.append(match.group(2))
    return found, pairs


def _url_value(text: str, keys: frozenset[str]) -> str:
    parts = urlsplit(text if "://" in text else "x://host/" + text.lstrip("/"))
    for key, value in parse_qsl(parts.query):
        if key.lower() in keys:
            return value
    segments = [s for s in parts.path.split("/") if s]
    return segments[-1] if segments else ""


def _tr005_dev_eui(text: str) -> str:
    """Return the DevEUI of a LoRa Alliance TR005 code `LW:D0:JoinEUI:DevEUI:ProfileID...`."""
    fields = text.split(":")
    if len(fields) >= 5 and fields[1].upper() == "D0":
        return fields[3]
    return ""


RULES: dict[str, LabelRule] = {
    "thingsee": ThingseeRule(),
    "thingsmatrix": KeyedIdRule(
        name="ThingsMatrix serial number (sn)",
        keys=frozenset({"sn", "s/n", "serial", "serialnumber", "serial_number"}),
        pattern=re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}\Z"),
        alphabet=re.compile(r"[A-Z0-9-]+"),
        shape="a serial number has 4 to 32 letters, digits or dashes",
    ),
    "thingscale": KeyedIdRule(
        name="ThingScale device ID",
        keys=frozenset({"device_id", "deviceid", "id", "serial", "sn"}),
        pattern=re.compile(r"^[A-Z0-9][A-Z0-9_-]{3,31}\Z"),
        alphabet=re.compile(r"[A-Z0-9_-]+"),
        shape="a device ID has 4 to 32 letters, digits, dashes or underscores",
    ),
    "thingshub": KeyedIdRule(
        name="DevEUI",
        keys=frozenset({"deveui", "dev_eui", "eui", "dev eui"}),
        pattern=re.compile(r"^[0-9A-F]{16}\Z"),
        alphabet=re.compile(r"[0-9A-F]+"),
        shape="a DevEUI has 16 hexadecimal digits (0-9, A-F)",
        lorawan=True,
    ),
}


def label_rule(platform: str | None = None) -> LabelRule:
    """Return the label rule of a platform (default: the current app's PLATFORM)."""
    if platform is None:
        from app.platform.provider import current_profile

        platform = current_profile().key
    return RULES[platform]


def parse_device_label(text: str, platform: str | None = None) -> ParsedLabel | DeviceLabel:
    """Read label text by the platform's rule, or raise LabelError."""
    return label_rule(platform).parse(text)


def normalise_device_id(raw: str, platform: str | None = None) -> str:
    """Return a device id in the platform's canonical form, or raise LabelError."""
    return label_rule(platform).normalise(raw)
