"""Device type from a TUID's 6-character IMC prefix (spec §4)."""

from __future__ import annotations

UNKNOWN = "unknown"

# Toolbox's table: an exact match on all 6 characters wins.
IMCS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "Gateway GLOBAL": (
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
    "Gateway LAN": ("XXXX16", "TSGW05"),
    "ENVIRONMENT": ("XXXX01", "TSPD01", "XXXX03", "TSPD02", "TSPD03", "TSPD04", "XXEN01", "TSEN01"),
    "ENVIRONMENT RUGGED": ("XXXX18", "TSPD05", "XXRU01", "TSRU01", "TSRU02"),
    "PRESENCE": ("XXXX05", "TSPR01", "XXXX06", "TSPR02", "XXXX12", "TSPR03", "XXXX13", "TSPR04"),
    "DISTANCE": ("XXXX02", "TSTF01", "XXXX04", "TSTF02"),
    "BEAM": ("XXXX20", "TSTF04"),
    "ANGLE RUGGED": ("XXXX10", "TSAN01"),
    "LEAKAGE RUGGED": ("XXLK01", "TSLK01", "TSLK02"),
    "AIR": ("XXAR01", "TSAR01", "TSAR02"),
    "COUNT": ("XXXX24", "TSAP01"),
    "ACTIVITY": ("XXXXSP", "GOTG01"),
    "WhiffAway LooLight": ("WHLL01",),
}

TYPE_BY_IMC: dict[str, str] = {imc: name for name, imcs in IMCS_BY_TYPE.items() for imc in imcs}

# The 2021 app's family rules, used only when the table has no exact match. A family maps
# to the table's name for it; an unlisted gateway could be GLOBAL or LAN, so it is just "Gateway".
_FAMILY_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("TSGW", "Gateway"),
    ("TSTF", "DISTANCE"),
    ("TSPD", "ENVIRONMENT"),
    ("TSPR", "PRESENCE"),
    ("TSAR", "AIR"),
    ("XXXX14", "AIR"),
    ("TSAN", "ANGLE RUGGED"),
    ("TSLK", "LEAKAGE RUGGED"),
    ("LOLT01", "WhiffAway LooLight"),
    ("XXLT01", "WhiffAway LooLight"),
)

DEVICE_TYPES: tuple[str, ...] = (*IMCS_BY_TYPE, "Gateway", UNKNOWN)


def device_type_for(tuid_or_imc: str) -> str:
    """Return the device type named by a TUID's (or IMC's) first 6 characters, or "unknown"."""
    imc = tuid_or_imc.strip().upper()[:6]
    if len(imc) < 6:
        return UNKNOWN
    exact = TYPE_BY_IMC.get(imc)
    if exact is not None:
        return exact
    for prefix, name in _FAMILY_BY_PREFIX:
        if imc.startswith(prefix):
            return name
    return UNKNOWN


def is_gateway(device_type: str) -> bool:
    """Tell whether a device type is a gateway (any gateway may replace any gateway)."""
    return device_type.startswith("Gateway")
