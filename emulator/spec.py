"""The Thingsee facts the emulator needs, copied from the spec so it depends on nothing of app/.

shared/platform/thingsee-open-services.md: installation statuses (§2.6, §3), the `unassigned`
group (§2.7) and the device types by 6-character IMC prefix (§4). The app keeps its own copy
(app/platform/interface.py, app/labels/device_types.py); tests/emulator/test_spec_copy.py checks
the two agree.
"""

from __future__ import annotations

INSTALLATION_STATUSES = ("new", "installed", "uninstalled", "quarantine", "retired")
UNASSIGNED = "unassigned"

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
