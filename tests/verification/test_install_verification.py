"""After an install is synced the worker watches the device on the platform (real emulator):
verified once it reports after the install, silent when the window passes without a report."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.database import db
from app.models.audit import AuditEvent
from tests.factories import op
from tests.verification.conftest import VerifyRig

TSPR = "TSPR04EZU319010"  # + 2 characters: presence sensors
GATEWAY = "TSGW01EZU319010"


def _install(rig: VerifyRig, tuid: str, **args: Any) -> None:
    body = {"operations": [op("install", tuid, at=rig.now(), group_id="prfi00site", **args)]}
    assert rig.api.post("/api/operations", json=body).status_code == 200


def test_a_device_that_reports_after_the_install_is_verified_with_one_look(
    rig: VerifyRig, app: Any
) -> None:
    (tuid,) = rig.devices({TSPR + "01": 60})
    _install(rig, tuid)
    rig.run()
    waiting = rig.verification(tuid)
    assert waiting.state == "waiting" and waiting.looks == 0
    assert waiting.group_id == "prfi00site"

    rig.advance(300)

    verified = rig.verification(tuid)
    assert verified.state == "verified" and verified.looks == 1
    assert verified.last_seen_at is not None and verified.last_seen_at >= verified.installed_at
    assert verified.battery_level is not None
    with app.app_context():
        events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.tuid == tuid))
        assert list(events) == ["verify.verified"]


def test_a_device_that_never_reports_is_silent_after_the_window(rig: VerifyRig) -> None:
    (tuid,) = rig.devices({TSPR + "02": None})
    _install(rig, tuid)
    rig.run()
    for _ in range(5):
        rig.advance(300)
        assert rig.verification(tuid).state == "waiting"
    rig.advance(300)  # 30 min after the install

    silent = rig.verification(tuid)
    assert silent.state == "silent" and silent.silent_at is not None
    assert silent.looks == 6
    # One late look a window later, then nothing more is spent on it.
    rig.advance(1800)
    rig.advance(1800)
    final = rig.verification(tuid)
    assert final.state == "silent" and final.looks == 7 and final.due_at is None


def test_a_late_reporter_is_verified_at_the_next_look(rig: VerifyRig) -> None:
    (tuid,) = rig.devices({TSPR + "03": 1000})
    _install(rig, tuid)
    rig.run()
    looks = 0
    while rig.verification(tuid).state == "waiting":
        rig.advance(300)
        looks += 1
    verified = rig.verification(tuid)
    assert verified.state == "verified"
    assert verified.looks == 4  # at 300, 600, 900 (not yet) and 1200 s
    assert verified.verified_at is not None and verified.last_seen_at is not None
    assert (verified.verified_at - verified.last_seen_at).total_seconds() <= 300


def test_a_device_silent_past_the_window_that_reports_later_is_verified_by_the_late_look(
    rig: VerifyRig,
) -> None:
    (tuid,) = rig.devices({TSPR + "04": 2400})
    _install(rig, tuid)
    rig.run()
    for _ in range(6):
        rig.advance(300)
    assert rig.verification(tuid).state == "silent"
    rig.advance(1800)
    late = rig.verification(tuid)
    assert late.state == "verified" and late.silent_at is not None and late.looks == 7


def test_a_device_that_reported_only_before_the_install_is_not_verified(
    rig: VerifyRig, emulator: Any
) -> None:
    (tuid,) = rig.devices({TSPR + "05": None})
    before = emulator.state.thing_info(tuid)["timestamp"]
    rig.emulator.state.advance(5)
    _install(rig, tuid)
    rig.run()
    for _ in range(6):
        rig.advance(300)
    silent = rig.verification(tuid)
    assert silent.state == "silent"
    assert silent.last_seen_at is not None and int(silent.last_seen_at.timestamp()) == before


def test_platform_down_during_verification_decides_nothing_until_it_answers(
    rig: VerifyRig, emulator: Any
) -> None:
    quiet, reporting = rig.devices({TSPR + "06": None, TSPR + "07": 1500})
    _install(rig, quiet)
    _install(rig, reporting)
    rig.run()
    rig.advance(300)
    emulator.state.update_settings(outage="503")
    # The window passes while the platform does not answer: nobody is called silent for it.
    rig.advance(1800)
    for tuid in (quiet, reporting):
        down = rig.verification(tuid)
        assert down.state == "waiting" and down.failures >= 1 and down.retry_kind
    emulator.state.update_settings(outage="")
    rig.advance(60)
    assert rig.verification(reporting).state == "verified"
    assert rig.verification(quiet).state == "silent"


def test_a_replacement_watches_the_new_device_in_the_old_ones_group(
    rig: VerifyRig, emulator: Any
) -> None:
    old, new = rig.devices({TSPR + "08": None, TSPR + "09": 30})
    _install(rig, old)
    rig.run()
    body = {"operations": [op("replace", old, at=rig.now(), new_tuid=new)]}
    assert rig.api.post("/api/operations", json=body).status_code == 200
    rig.run()
    rig.advance(300)
    replacement = rig.verification(new)
    assert replacement.state == "verified" and replacement.group_id == "prfi00site"
    # The replaced device is out of service: nobody waits for it to report any more.
    replaced = rig.verification(old)
    assert replaced.state == "withdrawn" and replaced.due_at is None


def _act(rig: VerifyRig, kind: str, tuid: str, minutes: float, **args: Any) -> None:
    body = {"operations": [op(kind, tuid, at=rig.now(), minutes=minutes, **args)]}
    assert rig.api.post("/api/operations", json=body).status_code == 200


def test_a_device_removed_before_it_reports_is_not_called_silent_and_costs_no_more_looks(
    rig: VerifyRig,
) -> None:
    (tuid,) = rig.devices({TSPR + "10": None})
    _install(rig, tuid)
    rig.run()
    rig.advance(300)
    looks = rig.verification(tuid).looks
    _act(rig, "remove", tuid, minutes=1)  # wrong spot: the technician takes it down again
    rig.run()
    removed = rig.verification(tuid)
    assert removed.state == "withdrawn" and removed.due_at is None
    for _ in range(8):
        rig.advance(600)
    after = rig.verification(tuid)
    assert after.state == "withdrawn" and after.looks == looks

    # Installed again elsewhere: that install is watched from the start.
    _act(rig, "install", tuid, minutes=1, group_id="prfi00site")
    rig.run()
    again = rig.verification(tuid)
    assert again.id != after.id and again.state == "waiting"


@pytest.mark.parametrize("status", ["retired", "quarantine"])
def test_a_silent_device_taken_out_of_service_leaves_the_silent_list(
    rig: VerifyRig, login: Any, status: str
) -> None:
    supervisor = login("supervisor")

    def silent_list() -> list[str]:
        listed = supervisor.get("/api/verifications/silent").json
        return [item["tuid"] for item in listed["items"]]

    (tuid,) = rig.devices({TSPR + "11": None})
    _install(rig, tuid)
    rig.run()
    for _ in range(6):
        rig.advance(300)
    assert rig.verification(tuid).state == "silent"
    assert tuid in silent_list()
    _act(rig, "set_status", tuid, minutes=1, status=status)
    rig.run()
    assert rig.verification(tuid).state == "withdrawn"
    assert tuid not in silent_list()


def test_an_older_action_synced_late_does_not_end_a_newer_install_s_watch(
    rig: VerifyRig,
) -> None:
    (tuid,) = rig.devices({TSPR + "12": None})
    _install(rig, tuid)
    rig.run()
    # A phone that was offline sends a retire it made before this install.
    _act(rig, "set_status", tuid, minutes=-10, status="retired")
    rig.run()
    assert rig.verification(tuid).state == "waiting"


def test_a_gateway_gets_the_longer_window_and_fewer_looks(rig: VerifyRig) -> None:
    (tuid,) = rig.devices({GATEWAY + "01": None})
    _install(rig, tuid)
    rig.run()
    row = rig.verification(tuid)
    assert (row.deadline_at - row.installed_at).total_seconds() == 6 * 3600
    first_look = (row.due_at - row.installed_at).total_seconds()  # type: ignore[operator]
    assert 3600 * 0.9 <= first_look <= 3600  # an hour, brought forward by up to a tenth


@pytest.mark.parametrize("platform_name", ["thingsmatrix"])
def test_a_platform_that_cannot_say_when_a_device_reported_marks_verification_unavailable(
    app: Any, login: Any, emulator: Any, emulated: Any, run_worker: Any
) -> None:
    (tuid,) = emulator.state.add_devices(count=1)
    api = login("technician")
    group = emulated.group("prfi00site")
    api.post("/api/operations", json={"operations": [op("install", tuid, group_id=group)]})
    worker = run_worker()
    with app.app_context():
        from app.models.verifications import InstallVerification

        row = db.session.scalar(select(InstallVerification))
        assert row is not None and row.state == "unavailable" and row.due_at is None
    assert worker.looks == 0
