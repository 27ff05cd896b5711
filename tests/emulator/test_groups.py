"""Deployment groups: create, list, rename, delete and membership moves."""

from __future__ import annotations

import httpx
import pytest

from emulator.server import EmulatorServer

from .conftest import assert_error


def group_ids(api: httpx.Client, **params: str | int) -> list[str]:
    return [g["group_id"] for g in api.get("groups", params=params).json()["data"]]


def test_create_and_list_with_and_without_trailing_slash(api: httpx.Client) -> None:
    created = api.post("groups/", json={"group_id": "prfi00hq", "group_description": "HQ"})
    api.post("groups", json={"group_id": "prfi00lab"})

    assert created.json() == {"data": {"group_id": "prfi00hq", "group_description": "HQ"}}
    listed = api.get("groups/").json()["data"]
    assert listed == api.get("groups").json()["data"]
    assert listed[0] == {"group_id": "unassigned"}
    assert {"group_id": "prfi00hq", "group_description": "HQ"} in listed
    assert {"group_id": "prfi00lab"} in listed


def test_list_filters_by_q_case_insensitively_and_limits(api: httpx.Client) -> None:
    for group_id in ("prfi00alpha", "prfi00beta", "rdse00alphabet"):
        api.post("groups", json={"group_id": group_id})

    assert group_ids(api, q="ALPHA") == ["prfi00alpha", "rdse00alphabet"]
    assert len(group_ids(api, limit=2)) == 2
    assert_error(api.get("groups", params={"limit": "x"}), 400, "Bad Request")


@pytest.mark.parametrize(
    "group_id", ["", "   ", "has space", "tab\there", "unassigned", "UNASSIGNED", "Unassigned", 7]
)
def test_invalid_group_ids_are_400(api: httpx.Client, group_id: object) -> None:
    response = api.post("groups", json={"group_id": group_id})

    assert_error(response, 400, "Bad Request")
    assert group_ids(api) == ["unassigned"]


def test_missing_group_id_and_bad_description_are_400(api: httpx.Client) -> None:
    assert_error(api.post("groups", json={}), 400, "Bad Request")
    response = api.post("groups", json={"group_id": "prfi00x", "group_description": 5})
    assert_error(response, 400, "Bad Request")


def test_duplicate_create_is_409(api: httpx.Client) -> None:
    api.post("groups", json={"group_id": "prfi00hq"})

    assert_error(api.post("groups", json={"group_id": "prfi00hq"}), 409, "Conflict")


def test_strict_naming_enforces_the_convention(api: httpx.Client, emulator: EmulatorServer) -> None:
    emulator.state.update_settings(strict_group_naming=True)

    assert api.post("groups", json={"group_id": "prfi00haltianhq"}).status_code == 200
    assert api.post("groups", json={"group_id": "My-Group"}).status_code == 400
    assert api.post("groups", json={"group_id": "xxfi00site"}).status_code == 400


def test_group_things_lists_members_and_404s_unknown(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    first, second = emulator.state.add_devices(count=2)
    api.post("groups", json={"group_id": "prfi00hq"})
    api.post(f"things/{first}/group", json={"group_id": "prfi00hq"})

    assert api.get("groups/prfi00hq/things").json()["data"] == {
        "group_id": "prfi00hq",
        "tuids": [first],
    }
    assert api.get("groups/unassigned/things").json()["data"]["tuids"] == [second]
    assert_error(api.get("groups/prfi00none/things"), 404, "Not Found")


def test_rename_moves_members_and_keeps_the_description(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    api.post("groups", json={"group_id": "prfi00old", "group_description": "Old site"})
    api.post(f"things/{tuid}/group", json={"group_id": "prfi00old"})

    response = api.post("groups/prfi00old/rename", json={"group_id": "prfi00new"})

    assert response.json() == {
        "data": {"group_id": "prfi00new", "old": "prfi00old", "renamed": True}
    }
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "prfi00new"
    assert api.get("groups/prfi00new/things").json()["data"]["tuids"] == [tuid]
    assert {"group_id": "prfi00new", "group_description": "Old site"} in api.get("groups").json()[
        "data"
    ]
    assert_error(api.get("groups/prfi00old/things"), 404, "Not Found")


def test_rename_errors(api: httpx.Client) -> None:
    api.post("groups", json={"group_id": "prfi00a"})
    api.post("groups", json={"group_id": "prfi00b"})

    assert_error(api.post("groups/prfi00zz/rename", json={"group_id": "prfi00c"}), 404, "Not Found")
    assert_error(api.post("groups/prfi00a/rename", json={"group_id": "prfi00b"}), 409, "Conflict")
    assert_error(api.post("groups/prfi00a/rename", json={"group_id": "a b"}), 400, "Bad Request")
    assert_error(
        api.post("groups/prfi00a/rename", json={"group_id": "unassigned"}), 400, "Bad Request"
    )
    assert_error(
        api.post("groups/unassigned/rename", json={"group_id": "prfi00c"}), 400, "Bad Request"
    )


def test_delete_moves_members_to_unassigned(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    api.post("groups", json={"group_id": "prfi00gone"})
    api.post(f"things/{tuid}/group", json={"group_id": "prfi00gone"})

    response = api.delete("groups/prfi00gone")

    assert response.json() == {"data": {"group_id": "prfi00gone", "deleted": True}}
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "unassigned"
    assert "prfi00gone" not in group_ids(api)
    assert_error(api.delete("groups/prfi00gone"), 404, "Not Found")


def test_delete_unassigned_is_400(api: httpx.Client) -> None:
    assert_error(api.delete("groups/unassigned"), 400, "Bad Request")


def test_delete_non_empty_group_can_be_a_conflict(
    api: httpx.Client, emulator: EmulatorServer, tuid: str
) -> None:
    emulator.state.update_settings(delete_nonempty_group_conflict=True)
    api.post("groups", json={"group_id": "prfi00full"})
    api.post("groups", json={"group_id": "prfi00empty"})
    api.post(f"things/{tuid}/group", json={"group_id": "prfi00full"})

    assert_error(api.delete("groups/prfi00full"), 409, "Conflict")
    assert api.get(f"things/{tuid}/group").json()["data"]["group_id"] == "prfi00full"
    assert api.delete("groups/prfi00empty").status_code == 200
