"""TUIDs and device types: the 6-character IMC prefix table from spec §4 and TUID generation."""

from __future__ import annotations

import random
import re
import string

TUID_PATTERN = re.compile(r"^[A-Z0-9]{17}$")

# Toolbox's prefix table (spec §4), by device type.
PREFIXES_BY_KIND: dict[str, tuple[str, ...]] = {
    "gateway": (
        "XXXX00",
        "TSGW01",
        "TSGW02",
        "XXXX08",
        "TSGW03",
        "XXXX11",
        "TSGW04",
        "XXXX21",
        "TSGW06",
    ),
    "gateway-lan": ("XXXX16", "TSGW05"),
    "environment": ("XXXX01", "TSPD01", "XXXX03", "TSPD02", "TSPD03", "TSPD04", "XXEN01", "TSEN01"),
    "environment-rugged": ("XXXX18", "TSPD05", "XXRU01", "TSRU01", "TSRU02"),
    "presence": ("XXXX05", "TSPR01", "XXXX06", "TSPR02", "XXXX12", "TSPR03", "XXXX13", "TSPR04"),
    "distance": ("XXXX02", "TSTF01", "XXXX04", "TSTF02"),
    "beam": ("XXXX20", "TSTF04"),
    "angle": ("XXXX10", "TSAN01"),
    "leakage": ("XXLK01", "TSLK01", "TSLK02"),
    "air": ("XXAR01", "TSAR01", "TSAR02"),
    "count": ("XXXX24", "TSAP01"),
    "activity": ("XXXXSP", "GOTG01"),
    "loolight": ("WHLL01",),
}

KIND_BY_PREFIX: dict[str, str] = {
    prefix: kind for kind, prefixes in PREFIXES_BY_KIND.items() for prefix in prefixes
}

# How often each type turns up in a generated fleet: mostly sensors, a few gateways.
_KIND_WEIGHTS: dict[str, int] = {
    "gateway": 6,
    "gateway-lan": 2,
    "environment": 26,
    "environment-rugged": 6,
    "presence": 22,
    "distance": 8,
    "beam": 3,
    "angle": 3,
    "leakage": 6,
    "air": 8,
    "count": 4,
    "activity": 3,
    "loolight": 3,
}

# Production units start with a product code; R&D units (XX...) are rare in a customer fleet.
_RND_SHARE = 0.1


def kind_of(tuid: str) -> str:
    """Return the device type for a TUID's 6-character prefix, or 'unknown'."""
    return KIND_BY_PREFIX.get(tuid[:6].upper(), "unknown")


def is_gateway(kind: str) -> bool:
    """Say whether a device type is a gateway."""
    return kind in ("gateway", "gateway-lan")


def random_tuid(rng: random.Random) -> str:
    """Make a TUID: an IMC prefix from the table plus an 11-character PSN like 'EZU31901021'."""
    kinds = list(_KIND_WEIGHTS)
    kind = rng.choices(kinds, weights=[_KIND_WEIGHTS[k] for k in kinds])[0]
    prefixes = PREFIXES_BY_KIND[kind]
    production = [p for p in prefixes if not p.startswith("XX")]
    rnd = [p for p in prefixes if p.startswith("XX")]
    pool = rnd if rnd and rng.random() < _RND_SHARE else production
    imc = rng.choice(pool)
    # Haltian PSNs look like three letters, then year/week and a running number.
    psn = "".join(rng.choices(string.ascii_uppercase, k=3)) + "".join(
        rng.choices(string.digits, k=8)
    )
    return imc + psn
