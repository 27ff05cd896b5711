"""`flask bulk ...`: the console's bulk jobs for scripts, against the emulator."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.factories import platform_statuses
from tests.platforms import EmulatedPlatform


@pytest.mark.all_platforms
def test_dry_run_prints_the_verdicts_writes_results_and_changes_nothing(
    app: Any, make_user: Any, emulator: Any, emulated: EmulatedPlatform, tmp_path: Path
) -> None:
    make_user("sue", role="supervisor")
    tuids = emulator.state.add_devices(count=3)
    unknown = emulated.unknown_device
    listed = tmp_path / "devices.csv"
    listed.write_text("tuid\n" + "\n".join([*tuids, tuids[0], unknown]) + "\n")
    results = tmp_path / "results.csv"

    outcome = app.test_cli_runner().invoke(
        args=[
            "bulk",
            "quarantine",
            "--tuids-file",
            str(listed),
            "--user",
            "sue",
            "--dry-run",
            "--results",
            str(results),
        ]
    )

    assert outcome.exit_code == 0, outcome.output
    assert "reading" in outcome.output  # the progress bar while the devices are read
    assert "dry run: nothing changed" in outcome.output
    assert "change" in outcome.output and "duplicate" in outcome.output
    rows = list(csv.DictReader(results.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["tuid"], r["preview"]) for r in rows] == [
        (tuids[0], "change"),
        (tuids[1], "change"),
        (tuids[2], "change"),
        (tuids[0], "duplicate"),
        (unknown, "unknown"),
    ]
    assert all(platform_statuses(emulator, t) == ["new"] for t in tuids)


@pytest.mark.all_platforms
def test_confirmed_run_with_its_own_worker_changes_every_device_once(
    app: Any, make_user: Any, emulator: Any, tmp_path: Path
) -> None:
    make_user("sue", role="supervisor")
    tuids = emulator.state.add_devices(count=4)
    listed = tmp_path / "devices.txt"
    listed.write_text("\n".join(tuids) + "\n")

    outcome = app.test_cli_runner().invoke(
        args=[
            "bulk",
            "retire",
            "--tuids-file",
            str(listed),
            "--user",
            "sue",
            "--yes",
            "--run-worker",
            "--poll",
            "0.05",
        ]
    )

    assert outcome.exit_code == 0, outcome.output
    assert "4 operations queued" in outcome.output
    assert "done: 4 synced, 0 failed" in outcome.output
    assert all(platform_statuses(emulator, t) == ["new", "retired"] for t in tuids)


def test_refuses_a_technician_and_a_count_that_is_not_typed(
    app: Any, make_user: Any, emulator: Any, tmp_path: Path
) -> None:
    make_user("terttu", role="technician")
    make_user("sue", role="supervisor")
    (tuid,) = emulator.state.add_devices(count=1)
    listed = tmp_path / "one.txt"
    listed.write_text(tuid + "\n")
    runner = app.test_cli_runner()

    technician = runner.invoke(
        args=["bulk", "retire", "--tuids-file", str(listed), "--user", "terttu", "--dry-run"]
    )
    assert technician.exit_code != 0
    assert "'terttu' is a technician; bulk jobs need a supervisor." in technician.output

    declined = runner.invoke(
        args=["bulk", "retire", "--tuids-file", str(listed), "--user", "sue"], input="2\n"
    )
    assert declined.exit_code != 0
    assert "Not confirmed; the job was cancelled." in declined.output
    assert platform_statuses(emulator, tuid) == ["new"]


@pytest.mark.all_platforms
def test_a_dry_run_the_platform_cannot_answer_says_so(
    app: Any, make_user: Any, emulator: Any, tmp_path: Path
) -> None:
    make_user("sue", role="supervisor")
    tuids = emulator.state.add_devices(count=2)
    listed = tmp_path / "devices.txt"
    listed.write_text("\n".join(tuids) + "\n")
    emulator.state.update_settings(fail_next=[{"status": 500, "path": "/installations"}] * 100)

    outcome = app.test_cli_runner().invoke(
        args=["bulk", "retire", "--tuids-file", str(listed), "--user", "sue", "--dry-run"]
    )

    assert outcome.exit_code == 1
    assert "The platform did not answer for any device" in outcome.output
