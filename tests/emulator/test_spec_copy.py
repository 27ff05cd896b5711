"""The emulator keeps its own copy of the spec's constants; it must agree with the app's."""

from __future__ import annotations

from app.labels.device_types import IMCS_BY_TYPE
from app.platform.interface import INSTALLATION_STATUSES, UNASSIGNED
from emulator import spec


def test_the_emulator_and_the_app_read_the_same_spec() -> None:
    assert spec.INSTALLATION_STATUSES == INSTALLATION_STATUSES
    assert spec.UNASSIGNED == UNASSIGNED
    assert spec.IMCS_BY_TYPE == IMCS_BY_TYPE


def test_the_emulator_starts_without_the_web_stack() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, emulator.server, emulator.cli\n"
        "loaded = [m for m in ('flask', 'sqlalchemy', 'app') if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
