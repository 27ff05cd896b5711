"""TUIDs and device types: the 6-character IMC prefix table from spec §4 and TUID generation."""

from __future__ import annotations

import random
import re
import string

from .spec import IMCS_BY_TYPE

TUID_PATTERN = re.compile(r"^[A-Z0-9]{17}$")

# The emulator's short names for the spec §4 device types; the IMC table is the spec copy in
# spec.py (the app keeps its own for the label parser).
_KIND_BY_TYPE: dict[str, str] = {
    "Gateway GLOBAL": "gateway",
    "Gateway LAN": "gateway-lan",
    "ENVIRONMENT": "environment",
    "ENVIRONMENT RUGGED": "environment-rugged",
    "PRESENCE": "presence",
    "DISTANCE": "distance",
    "BEAM": "beam",
    "ANGLE RUGGED": "angle",
    "LEAKAGE RUGGED": "leakage",
    "AIR": "air",
    "COUNT": "count",
    "ACTIVITY": "activity",
    "WhiffAway LooLight": "loolight",
}
PREFIXES_BY_KIND: dict[str, tuple[str, ...]] = {
    _KIND_BY_TYPE[name]: imcs for name, imcs in IMCS_BY_TYPE.items()
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
