"""Every Platform method against the emulator over real HTTP."""

from __future__ import annotations

import pytest

from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.interface import INSTALLATION_STATUSES, UNASSIGNED
from app.platform.thingsee import ThingseeClient
from tests.platform.harness import EmulatorControl


def test_get_thing_reads_a_seeded_device(client: ThingseeClient, control: EmulatorControl) -> None:
    (tuid,) = control.devices(1)
    info = client.get_thing(tuid)
    assert info.tuid == tuid
    assert isinstance(info.raw, dict) and info.raw
    assert info.timestamp is None or isinstance(info.timestamp, int)
    assert info.battery_level is None or 0 <= info.battery_level <= 100
    assert (info.lat is None) == (info.lon is None)
    if info.lat is not None:
        assert isinstance(info.lat, float)


def test_unknown_tuid_is_not_found_on_every_device_route(client: ThingseeClient) -> None:
    tuid = "XXXX01NOTINSTACK1"
    calls = [
        lambda: client.get_thing(tuid),
        lambda: client.get_installations(tuid),
        lambda: client.get_group(tuid),
        lambda: client.get_messages(tuid, limit=1),
        lambda: client.get_commands(tuid),
        lambda: client.thing_alerts(tuid),
        lambda: client.set_installation_status(tuid, "installed"),
    ]
    for call in calls:
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.status == 404
        assert caught.value.message


def test_installation_history_is_newest_first(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    assert client.get_installation_status(tuid) == "new"

    record = client.set_installation_status(tuid, "installed")
    assert (record.tuid, record.installation_status) == (tuid, "installed")
    client.set_installation_status(tuid, "quarantine")
    client.set_installation_status(tuid, "quarantine")  # a repeat is accepted too

    history = client.get_installations(tuid, limit=10)
    assert [r.installation_status for r in history] == [
        "quarantine",
        "quarantine",
        "installed",
        "new",
    ]
    assert history[0].responsible == control.server.client_id
    assert client.get_installations(tuid, limit=1)[0].installation_status == "quarantine"
    assert client.get_installation_status(tuid) == "quarantine"


def test_every_documented_status_can_be_set(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    for status in INSTALLATION_STATUSES:
        assert client.set_installation_status(tuid, status).installation_status == status
        assert client.get_installation_status(tuid) == status


def test_invalid_status_is_refused_without_a_call(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    control.clear_calls()
    for bad in ("Installed", "broken", ""):
        with pytest.raises(ValidationFailed, match="installation_status"):
            client.set_installation_status(tuid, bad)
    assert control.calls() == []
    assert client.token_requests() == 0


def test_device_groups(client: ThingseeClient, control: EmulatorControl) -> None:
    a, b = control.devices(2)
    assert client.get_group(a) == UNASSIGNED
    created = client.create_group("prfi00fieldhand", "Field test site")
    assert (created.group_id, created.description) == ("prfi00fieldhand", "Field test site")

    assert client.set_group(a, "prfi00fieldhand") == "prfi00fieldhand"
    assert client.set_group(b, "prfi00fieldhand") == "prfi00fieldhand"
    assert client.get_group(a) == "prfi00fieldhand"
    assert sorted(client.group_things("prfi00fieldhand")) == sorted([a, b])

    assert client.set_group(b, UNASSIGNED) == UNASSIGNED
    assert client.get_group(b) == UNASSIGNED
    assert client.group_things("prfi00fieldhand") == [a]


def test_set_group_to_a_missing_group_is_not_found(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    with pytest.raises(NotFound):
        client.set_group(tuid, "prfi00nosuchgroup")
    assert client.get_group(tuid) == UNASSIGNED


def test_list_groups_includes_unassigned_and_filters(client: ThingseeClient) -> None:
    client.create_group("prfi00alpha")
    client.create_group("prfi00beta", "second")
    groups = {g.group_id: g for g in client.list_groups()}
    assert {UNASSIGNED, "prfi00alpha", "prfi00beta"} <= set(groups)
    assert groups["prfi00beta"].description == "second"

    assert [g.group_id for g in client.list_groups(q="ALPHA")] == ["prfi00alpha"]
    assert len(client.list_groups(limit=1)) == 1


def test_create_group_refuses_reserved_and_whitespace_ids_locally(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    control.clear_calls()
    for bad in ("unassigned", "Unassigned", "has space", "tab\there", ""):
        with pytest.raises(ValidationFailed):
            client.create_group(bad)
    assert control.calls() == []


def test_create_group_sends_the_id_as_given(client: ThingseeClient) -> None:
    # Normalising ids is the service's job; the adapter must not change what it was given.
    assert client.create_group("PRFI00Mixed-Case").group_id == "PRFI00Mixed-Case"
    assert "PRFI00Mixed-Case" in {g.group_id for g in client.list_groups()}


def test_duplicate_group_is_a_conflict(client: ThingseeClient) -> None:
    client.create_group("prfi00dup")
    with pytest.raises(Conflict) as caught:
        client.create_group("prfi00dup")
    assert caught.value.status == 409
    assert caught.value.message


def test_rename_group_moves_members(client: ThingseeClient, control: EmulatorControl) -> None:
    (tuid,) = control.devices(1)
    client.create_group("prfi00old")
    client.create_group("prfi00taken")
    client.set_group(tuid, "prfi00old")

    assert client.rename_group("prfi00old", "prfi00new") == "prfi00new"
    assert client.get_group(tuid) == "prfi00new"
    assert client.group_things("prfi00new") == [tuid]
    with pytest.raises(NotFound):
        client.group_things("prfi00old")
    with pytest.raises(NotFound):
        client.rename_group("prfi00old", "prfi00other")
    with pytest.raises(Conflict):
        client.rename_group("prfi00new", "prfi00taken")
    with pytest.raises(ValidationFailed):
        client.rename_group("prfi00new", UNASSIGNED)


def test_delete_group_moves_members_to_unassigned(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    client.create_group("prfi00gone")
    client.set_group(tuid, "prfi00gone")

    client.delete_group("prfi00gone")
    assert client.get_group(tuid) == UNASSIGNED
    assert "prfi00gone" not in {g.group_id for g in client.list_groups()}
    with pytest.raises(NotFound):
        client.delete_group("prfi00gone")
    with pytest.raises(ValidationFailed):
        client.delete_group(UNASSIGNED)


def test_path_segments_are_url_encoded(client: ThingseeClient, control: EmulatorControl) -> None:
    control.devices(1)
    client.list_groups()
    control.clear_calls()
    odd_ids = ("A/B", "..", ".", "x?limit=1", "a#b", "%41")
    for odd in odd_ids:
        with pytest.raises(NotFound):
            client.get_group(odd)
        with pytest.raises(NotFound):
            client.group_things(odd)
    calls = control.api_calls()
    assert len(calls) == 2 * len(odd_ids)
    # Nothing leaked into the query string or resolved away as a dot segment.
    assert all(call["query"] == "" and call["status"] == 404 for call in calls)
    assert all(call["path"].startswith(("/prod/v1/things/", "/prod/v1/groups/")) for call in calls)
    with pytest.raises(ValidationFailed):
        client.get_thing("")


def test_messages_filters_and_order(client: ThingseeClient, control: EmulatorControl) -> None:
    (tuid,) = control.devices(1)
    messages = client.get_messages(tuid, limit=50)
    assert messages, "the emulator seeds a message stream"
    stamps = [m["tsmTs"] for m in messages]
    assert stamps == sorted(stamps, reverse=True)
    assert all(m["tsmTuid"] == tuid and "deploymentGroupId" in m for m in messages)

    assert len(client.get_messages(tuid, limit=1)) == 1
    first_id = messages[0]["tsmId"]
    only = client.get_messages(tuid, limit=50, message_ids=[first_id])
    assert only and all(m["tsmId"] == first_id for m in only)
    events = client.get_messages(tuid, limit=50, event_ids=[10, 101])
    assert all(m["tsmEv"] in (10, 101) for m in events)

    newest = stamps[0]
    assert client.get_messages(tuid, limit=50, since=newest + 1) == []
    window = client.get_messages(tuid, limit=50, since=stamps[-1], until=newest)
    assert len(window) == len(messages)

    query = control.api_calls("GET", "/messages")[-1]["query"]
    assert "from=" in query and "to=" in query


def test_commands_round_trip(client: ThingseeClient, control: EmulatorControl) -> None:
    (tuid,) = control.devices(1)
    assert client.get_commands(tuid) == []
    command = {"tsmId": 1500, "tsmEv": 30, "transactionId": 4242, "reportInterval": 300}
    accepted = client.send_commands(tuid, [command])
    sent = accepted["commands"][0]
    assert sent["tsmDstTuid"] == tuid
    assert sent["transactionId"] == 4242
    assert isinstance(sent["tsmTs"], int)

    listed = client.get_commands(tuid, limit=1)
    assert len(listed) == 1
    assert listed[0]["command"]["transactionId"] == 4242


def test_validation_errors_carry_the_platform_message(
    client: ThingseeClient, control: EmulatorControl
) -> None:
    (tuid,) = control.devices(1)
    with pytest.raises(ValidationFailed) as caught:
        client.send_commands(tuid, [{"tsmId": 99999, "tsmEv": 30}])
    assert caught.value.status == 400
    assert "99999" in caught.value.message
    assert client.get_commands(tuid) == []  # a rejected request stores nothing

    with pytest.raises(ValidationFailed) as caught:
        client.get_messages(tuid, limit=-1)
    assert "limit" in caught.value.message

    with pytest.raises(ValidationFailed):
        client.send_commands(tuid, [])  # refused locally


def test_alerts(client: ThingseeClient, control: EmulatorControl) -> None:
    quiet, chatty = control.devices(2)
    assert client.alerting_tuids() == []
    assert client.alert_count() == 0
    assert client.thing_alerts(quiet) == []

    control.offline(quiet)
    control.advance(float(control.settings()["heartbeat_missed_after_s"]) + 3600)
    assert client.alerting_tuids() == [quiet]
    assert client.alert_count() == 1
    (alert,) = client.thing_alerts(quiet)
    assert (alert.tuid, alert.alert_type) == (quiet, "heartbeat missed")
    (start, end) = alert.periods[-1]
    assert end is None and len(start) == 19  # open, ISO-8601 without a zone
    assert client.thing_alerts(chatty, since=0) == []
    assert client.thing_alerts(quiet, until=0) == []
