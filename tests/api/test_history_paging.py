"""History paging at scale: cursors beside page numbers, bounded totals, both ways of filtering."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from app.services import paging

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
COUNT = 40
USERS = ("anna", "bert", "cecilia")


def _insert(table: Any, rows: list[dict[str, Any]], key: str) -> dict[Any, int]:
    from app.database import db

    returned = db.session.execute(table.insert().returning(table.c.id, table.c[key]), rows)
    return {value: pk for pk, value in returned}


@pytest.fixture
def fleet(app: Any, make_user: Any) -> dict[str, Any]:
    """40 operations straight into the tables: ties in time, replacements, moves, a failure."""
    from app.database import db
    from app.models.operations import Operation, OutboxStep, SyncAttempt

    users = [make_user(name) for name in USERS]
    kinds = ("install", "set_status", "set_group", "replace", "remove")
    with app.app_context():
        operations = []
        for i in range(COUNT):
            failed = i % 10 == 0
            operations.append(
                {
                    "op_id": f"00000000-0000-4000-8000-{i:012d}",
                    "kind": kinds[i % 5],
                    "tuid": f"TSPR04ABC{i:08d}",
                    "args": {},
                    "user_id": users[i % 3],
                    # Three at a time share an instant: pages must split ties without a gap.
                    "device_time": T0 + timedelta(minutes=i // 3),
                    "received_at": T0 + timedelta(hours=1, seconds=COUNT - i),
                    "updated_at": T0 + timedelta(hours=2),
                    "synced_at": None if failed else T0 + timedelta(hours=1, minutes=i),
                    "seen_group": "prfi00north" if i % 4 == 0 else "prfi00south",
                    "state": "failed" if failed else "synced",
                }
            )
        ids = _insert(Operation.__table__, operations, "op_id")
        steps = []
        for i, row in enumerate(operations):
            step = {
                "operation_id": ids[row["op_id"]],
                "tuid": row["tuid"],
                "order_at": row["device_time"],
                "state": "done",
                "available_at": T0,
                "attempts": 1,
                "outcome_uncertain": False,
                "result": None,  # every row has every key: executemany takes the first row's
            }
            if row["kind"] == "replace":
                new = {"tuid": f"TSPR04NEW{i:08d}", "action": "copy_group", "result": "prfi00west"}
                steps.append({**step, "step_no": 0, "value": row["tuid"], **new})
            elif row["kind"] == "set_group":
                steps.append({**step, "step_no": 0, "action": "set_group", "value": "prfi00east"})
            else:
                steps.append({**step, "step_no": 0, "action": "set_status", "value": "installed"})
        step_ids = _insert(OutboxStep.__table__, steps, "operation_id")
        attempt = {"attempt_no": 1, "worker": "w", "started_at": T0, "finished_at": T0}
        db.session.execute(
            SyncAttempt.__table__.insert(),
            [
                {**attempt, "step_id": step_ids[ids[operations[3]["op_id"]]], "outcome": "retry",
                 "http_status": 503, "operation_id": ids[operations[3]["op_id"]]},
                {**attempt, "step_id": step_ids[ids[operations[3]["op_id"]]], "outcome": "applied",
                 "http_status": 200, "operation_id": ids[operations[3]["op_id"]],
                 "attempt_no": 2, "finished_at": T0 + timedelta(seconds=5)},
            ],
        )  # fmt: skip
        db.session.commit()
        dialect = db.engine.dialect.name
    return {"op_ids": [row["op_id"] for row in operations], "dialect": dialect}


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["op_id"] for item in body["items"]]


def _get(api: Any, url: str) -> dict[str, Any]:
    response = api.get(url)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _by_page_numbers(api: Any, query: str, size: int) -> list[str]:
    ids: list[str] = []
    for page in range(COUNT):
        body = _get(api, f"/api/history?{query}&size={size}&page={page}")
        ids += _ids(body)
        if body["last"]:
            return ids
    raise AssertionError("never reached the last page")


@pytest.mark.parametrize(
    "sort",
    [
        "sort=device_time,desc",
        "sort=device_time,asc",
        "sort=tuid,asc",
        "sort=technician,asc",
        "sort=received_at,asc",
        "sort=kind,asc&sort=device_time,desc",  # directions mixed
        "sort=state,desc&sort=technician,asc",
        "sort=tuid,asc&sort=tuid,desc",  # the second mention changes nothing
    ],
)
def test_cursors_walk_the_same_rows_as_page_numbers_both_ways(
    login: Any, fleet: dict[str, Any], sort: str
) -> None:
    api = login("supervisor")
    expected = _by_page_numbers(api, sort, 7)
    assert sorted(expected) == sorted(fleet["op_ids"])

    body = _get(api, f"/api/history?{sort}&size=7")
    assert body["prevCursor"] is None
    forward, pages = _ids(body), [body]
    while body["nextCursor"]:
        number = body["number"] + 1
        body = _get(api, f"/api/history?{sort}&size=7&page={number}&cursor={body['nextCursor']}")
        assert body["number"] == number  # echoed for "page n of m"
        forward += _ids(body)
        pages.append(body)
    assert forward == expected
    assert body["last"] is True and [p["last"] for p in pages[:-1]] == [False] * (len(pages) - 1)

    backward = _ids(body)
    while body["prevCursor"]:
        body = _get(api, f"/api/history?{sort}&size=7&cursor={body['prevCursor']}")
        backward = _ids(body) + backward
        assert len(body["items"]) == 7 and body["last"] is False
    assert backward == expected


def test_a_previous_page_short_of_rows_is_filled_from_the_start(
    login: Any, fleet: dict[str, Any]
) -> None:
    api = login("supervisor")
    first = _get(api, "/api/history?size=10")
    second = _get(api, f"/api/history?size=10&page=1&cursor={first['nextCursor']}")
    back = _get(api, f"/api/history?size=10&cursor={second['prevCursor']}")
    assert _ids(back) == _ids(first) and back["prevCursor"] is None
    # Only 10 rows lie before the second page (say the rest left the list meanwhile): the
    # first page is read from the start rather than shown 10 rows short.
    wider = _get(api, f"/api/history?size=15&cursor={second['prevCursor']}")
    assert _ids(wider) == _by_page_numbers(api, "size=15", 15)[:15]
    assert wider["number"] == 0 and wider["prevCursor"] is None


def test_a_sort_on_a_column_that_may_be_empty_pages_by_number_only(
    login: Any, fleet: dict[str, Any]
) -> None:
    api = login("supervisor")
    body = _get(api, "/api/history?sort=synced_at,desc&size=7")
    assert body["nextCursor"] is None and body["prevCursor"] is None and body["last"] is False
    assert len(_by_page_numbers(api, "sort=synced_at,desc", 7)) == COUNT


def _forged(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_a_cursor_of_another_sort_or_a_forged_one_is_422(login: Any, fleet: dict[str, Any]) -> None:
    api = login("supervisor")
    by_time = _get(api, "/api/history?size=5")["nextCursor"]
    for query in (
        f"sort=tuid,asc&cursor={by_time}",
        "cursor=not-a-cursor",
        "cursor=" + _forged({"s": "device_time:d", "v": ["2026-11-02T08:00:00", 3], "b": False}),
        "cursor=" + _forged({"s": "device_time:d", "v": ["yesterday", 3], "b": False}),
        "cursor=" + _forged({"s": "device_time:d", "v": [T0.isoformat(), "3"], "b": False}),
        "cursor=" + _forged({"s": "device_time:d", "v": [T0.isoformat()], "b": False}),
        "cursor=" + _forged({"s": "device_time:d", "v": [T0.isoformat(), 3], "b": "no"}),
        "cursor=" + _forged(["device_time"]),
        "cursor=" + "x" * 2001,
    ):
        response = api.get(f"/api/history?{query}")
        assert response.status_code == 422, query
        error = response.json["error"]
        assert error["code"] in ("unprocessable", "validation_failed"), query


def test_totals_past_the_bound_are_estimates_and_say_so(
    login: Any, fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = login("supervisor")
    exact = _get(api, "/api/history?size=7")
    assert exact["totalElements"] == COUNT and exact["totalExact"] is True
    assert exact["totalPages"] == 6

    monkeypatch.setattr(paging, "COUNT_EXACT_UP_TO", 5)
    body = _get(api, "/api/history?size=7")
    if fleet["dialect"] == "postgresql":
        # The planner's estimate, never less than what was counted before stopping.
        assert body["totalExact"] is False and body["totalElements"] > 5
    else:  # SQLite has no estimate to give and counts on
        assert body["totalExact"] is True and body["totalElements"] == COUNT
    assert body["last"] is False
    # `last` never trusts an estimate: the page after the final row says so itself.
    final = _get(api, "/api/history?size=7&page=5")
    assert len(final["items"]) == 5 and final["last"] is True
    narrow = _get(api, "/api/history?state=failed")
    assert narrow["totalElements"] == 4 and narrow["totalExact"] is True


@pytest.mark.parametrize(
    "query",
    [
        "group=prfi00north",  # seen there
        "group=prfi00east",  # moved there
        "group=PRFI00WEST",  # a replacement copied it there
        "group=prfi00west&state=synced&sort=tuid,asc",
        "tuid=new0000",  # the replacement device
        "tuid=abc0000001",
        "tuid=1",
        "tuid=-",
        "group=prfi00south&tuid=3&sort=technician,asc",
    ],
)
def test_filters_matching_in_several_ways_find_the_same_rows_however_many_match(
    login: Any, fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    api = login("supervisor")
    few = _by_page_numbers(api, query, 4)
    counted = _get(api, f"/api/history?{query}")
    assert counted["totalExact"] is True and counted["totalElements"] == len(few)
    # Past the bound the ways are ORed and the rows walked in order instead of collected.
    monkeypatch.setattr(paging, "COUNT_EXACT_UP_TO", 1)
    assert _by_page_numbers(api, query, 4) == few


def test_a_tuid_fragment_is_taken_literally(login: Any, fleet: dict[str, Any]) -> None:
    api = login("supervisor")
    assert _get(api, "/api/history?tuid=abc0000001")["totalElements"] == 10
    for literal in ("abc_000", "a%c", "abc-000"):  # no wildcards; "-" and "_" may be in ids
        assert _get(api, f"/api/history?tuid={quote(literal)}")["totalElements"] == 0, literal
    # Spaces and other punctuation a supervisor copies along are dropped.
    assert _get(api, "/api/history?tuid=" + quote(" abc 000 0001/"))["totalElements"] == 10


def test_the_platform_answer_is_the_newest_attempt(login: Any, fleet: dict[str, Any]) -> None:
    api = login("supervisor")
    op_id = fleet["op_ids"][3]
    item = next(i for i in _get(api, "/api/history?size=100")["items"] if i["op_id"] == op_id)
    assert item["platform"]["outcome"] == "applied" and item["platform"]["http_status"] == 200
    text = api.get("/api/history.csv?bom=false").get_data(as_text=True)
    rows = {r["op_id"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    assert len(rows) == COUNT
    assert rows[op_id]["platform_http_status"] == "200"
    assert rows[fleet["op_ids"][18]]["group"] == "prfi00west"  # the replacement's copied group


def test_the_inbox_pages_by_cursor_too(login: Any, fleet: dict[str, Any]) -> None:
    api = login("supervisor")
    first = _get(api, "/api/inbox?size=3")
    assert first["counts"]["failed"] == 4 and first["totalElements"] == 4
    second = _get(api, f"/api/inbox?size=3&page=1&cursor={first['nextCursor']}")
    assert len(second["items"]) == 1 and second["last"] is True
    assert set(_ids(first) + _ids(second)) == {fleet["op_ids"][i] for i in (0, 10, 20, 30)}
