"""The chaos bench's workload (who does what to which device, sent how) and its verdicts.

The verdicts compare three things: the operations the database accepted, the sync state it
reports, and every write the emulator received, per device.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

GROUPS = [f"prfi00chaos{i}" for i in range(1, 6)]
UNASSIGNED = "unassigned"


@dataclass
class Workload:
    phones: list[list[list[dict[str, Any]]]]  # per phone, its batches in sending order
    # The older half of each out-of-order pair, by the op_id of the newer half it follows.
    late: dict[str, dict[str, Any]]
    operations: int
    devices: int


def _next_action(rng: random.Random, status: str) -> tuple[str, dict[str, Any]]:
    """A plausible next action for a device in this status (spec §3's field transitions)."""
    if status in ("new", "uninstalled"):
        return ("install", {"group_id": rng.choice(GROUPS)})
    choices: list[tuple[str, dict[str, Any]]] = [
        ("set_status", {"status": "quarantine"}),
        ("set_group", {"group_id": rng.choice(GROUPS)}),
        ("remove", {}),
        ("set_status", {"status": "installed"}),
    ]
    if status == "quarantine":
        choices.append(("set_status", {"status": "retired"}))
    return rng.choice(choices)


_STATUS_AFTER = {"install": "installed", "remove": "uninstalled"}


def build(tuids: list[str], operations: int, phones: int, pairs: int, seed: int) -> Workload:
    """Spread `operations` over the devices; each device belongs to one phone (technician)."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=2)
    per_phone: list[list[dict[str, Any]]] = [[] for _ in range(phones)]
    by_device: dict[str, list[dict[str, Any]]] = {}
    for n in range(operations):
        tuid = tuids[n % len(tuids)]
        done = by_device.setdefault(tuid, [])
        status = "new"
        for item in done:
            status = item["args"].get("status") or _STATUS_AFTER.get(item["kind"], status)
        kind, args = _next_action(rng, status)
        # Device times follow the device's own sequence, spread over the last two hours.
        when = start + timedelta(seconds=len(done) * 1200 + rng.uniform(0, 600))
        item = {
            "op_id": str(uuid.uuid4()),
            "kind": kind,
            "tuid": tuid,
            "args": args,
            "device_time": when.isoformat(),
            "seen": {},
        }
        done.append(item)
    late: dict[str, dict[str, Any]] = {}
    paired = rng.sample([t for t, ops in by_device.items() if len(ops) >= 2], pairs)
    for tuid in paired:
        # The older of the device's last two actions reaches the server after the newer one.
        late[by_device[tuid][-1]["op_id"]] = by_device[tuid].pop(-2)
    for index, tuid in enumerate(tuids):
        per_phone[index % phones].extend(by_device.get(tuid, []))
    batches = []
    for ops in per_phone:
        ops.sort(key=lambda o: o["device_time"])
        batches.append([ops[i : i + 100] for i in range(0, len(ops), 100)])
    return Workload(batches, late, operations, len(tuids))


@dataclass
class Verdict:
    lost: int = 0
    duplicate_writes: int = 0
    wrong_final_state: int = 0
    wrong_order: int = 0
    false_synced: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, what: str, example: str) -> None:
        """Keep a few examples of each failure for the report."""
        found = self.examples.setdefault(what, [])
        if len(found) < 3:
            found.append(example)


def _collapse(values: list[str]) -> list[str]:
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def judge(
    sent: set[str],
    stored: dict[str, Any],
    steps: list[Any],
    history: dict[str, Any],
) -> Verdict:
    """Compare what was sent, what the database holds and what the platform received.

    `stored`: op_id -> operation row (state, tuid, order, kind); `steps`: done outbox steps
    (tuid, action, result, order_at, id, operation_id); `history`: the emulator's per-device
    writes, oldest first.
    """
    verdict = Verdict()
    missing = sent - set(stored)
    verdict.lost = len(missing)
    for op_id in list(missing)[:3]:
        verdict.note("lost", op_id)
    applied: dict[str, list[Any]] = {}
    for step in steps:
        applied.setdefault(step.tuid, []).append(step)
    synced_last: dict[tuple[str, str], Any] = {}
    for tuid, record in history.items():
        done = sorted(applied.get(tuid, []), key=lambda s: (s.order_at, s.id))
        expected = {"status": [s.result for s in done if s.action == "set_status"]}
        expected["group"] = [s.result for s in done if s.action in ("set_group", "copy_group")]
        written = {
            "status": [r["installation_status"] for r in record["installations"][1:]],
            "group": [g["group_id"] for g in record["group_changes"][1:]],
        }
        wrong_final = wrong_order = False
        for attribute in ("status", "group"):
            extra = len(written[attribute]) - len(expected[attribute])
            if extra > 0:
                verdict.duplicate_writes += extra
                verdict.note("duplicate", f"{tuid} {attribute}: {written[attribute]}")
            final = written[attribute][-1] if written[attribute] else None
            want = expected[attribute][-1] if expected[attribute] else None
            if want is not None and final != want:
                wrong_final = True
                verdict.note("final", f"{tuid} {attribute}: {final} != {want}")
                last_step = [
                    s for s in done if (s.action == "set_status") == (attribute == "status")
                ]
                synced_last[(tuid, attribute)] = last_step[-1].operation_id if last_step else None
            if _collapse(written[attribute]) != _collapse(expected[attribute]):
                wrong_order = True
                verdict.note("order", f"{tuid} {attribute}: {written[attribute]}")
        verdict.wrong_final_state += wrong_final
        verdict.wrong_order += wrong_order
    by_id = {row.id: row for row in stored.values()}
    for (tuid, _attribute), operation_id in synced_last.items():
        row = by_id.get(operation_id)
        if row is not None and row.state == "synced":
            verdict.false_synced += 1
            verdict.note("false synced", f"{row.op_id} on {tuid}")
    return verdict
