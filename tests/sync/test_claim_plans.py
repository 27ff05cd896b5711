"""A claim's cost must not grow with the backlog, even when PostgreSQL's statistics are stale.

Statistics are usually taken when almost nothing is pending; a burst (a bulk job, phones coming
back online) then looks tiny to the planner. These tests recreate that and read the plans of
the statements a claim actually runs, inside the claim's own transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from app.database import db
from app.sync.outbox import claim_steps
from tests.factories import op

T = datetime.now(UTC) - timedelta(hours=1)
BACKLOG = 1500


def _ingest(api: Any, prefix: str) -> None:
    tuids = [f"TSPR04{prefix}{i:07d}" for i in range(BACKLOG)]
    for start in range(0, BACKLOG, 500):
        chunk = tuids[start : start + 500]
        response = api.post(
            "/api/operations",
            json={"operations": [op("install", t, at=T, group_id="g1") for t in chunk]},
        )
        assert response.status_code == 200, response.json
        assert {r["result"] for r in response.json["results"]} == {"accepted"}, response.json[
            "results"
        ][0]


def _node_types(plan: dict[str, Any]) -> list[str]:
    found = [f"{plan['Node Type']}:{plan.get('Index Name', '')}"]
    for child in plan.get("Plans", []):
        found += _node_types(child)
    return found


def test_a_claim_walks_indexes_in_order_when_statistics_say_nothing_is_pending(
    app: Any, login: Any
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("planner statistics are PostgreSQL's")
    api = login("technician")
    _ingest(api, "DONE")
    with app.app_context():
        db.session.execute(text("UPDATE outbox SET state = 'done'"))
        db.session.execute(text("UPDATE operations SET state = 'synced'"))
        db.session.commit()
        db.session.execute(text("ANALYZE outbox"))
        db.session.execute(text("ANALYZE operations"))
        db.session.commit()
    _ingest(api, "BRST")  # 3,000 pending steps the statistics know nothing about

    plans: dict[str, list[str]] = {}
    watched = {
        "candidates": lambda s: s.startswith("SELECT outbox.id ") and "available_at <=" in s,
        "lease": lambda s: s.startswith("UPDATE outbox SET state="),
        "operations": lambda s: s.startswith("UPDATE operations SET state="),
    }

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        for name, matches in watched.items():
            if matches(statement):
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                (document,) = cursor.fetchone()
                if isinstance(document, str):
                    document = json.loads(document)
                plans[name] = _node_types(document[0]["Plan"])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", explain)
        try:
            claimed = claim_steps(db.session, "w", 16, datetime.now(UTC), 300)
        finally:
            event.remove(db.engine, "before_cursor_execute", explain)

    assert len(claimed) == 16
    assert set(plans) == set(watched), plans
    # Sorting means every pending step was tested first: the cost of the whole backlog.
    assert not [n for n in plans["candidates"] if n.startswith("Sort")], plans["candidates"]
    assert "Index Scan:ix_outbox_state_order" in plans["candidates"]
    assert "Index Scan:pk_outbox" in plans["lease"], plans["lease"]
    assert not [n for n in plans["operations"] if "ix_operations_state" in n], plans["operations"]
