"""A year of a large fleet, written straight into the tables (COPY on PostgreSQL).

Deterministic for a seed: the same operations, steps, sync attempts, audit events and bulk jobs
on PostgreSQL and SQLite. Most operations are synced; some failed, conflict, discarded or are
still being retried; a tenth come from bulk jobs of 10,000 devices; times lean toward recent
weeks (an action's age is a year times u^3). One device has exactly TIMELINE_OPS operations.
Steps come from the app's own plan_steps, so they are what ingest would have written.
"""

from __future__ import annotations

import heapq
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text

from app.labels.device_types import device_type_for
from app.services.operation_rules import PlannedStep, plan_steps
from bench.scale_sinks import SERIAL_TABLES, Sink, sink_for

SEED = 16
TECHNICIANS = 200
SUPERVISORS = 5
GROUPS = 500
BULK_JOB_SIZE = 10_000
TIMELINE_OPS = 50
BENCH_USER, BENCH_PASSWORD = "bench", "bench-password-long"
# Steps of operations still being retried wait out a backoff that ends after any bench run,
# so "nothing to claim" means exactly that.
FAR_FUTURE = timedelta(days=3650)
IMCS = ("TSPR04", "TSEN01", "TSTF02", "TSGW04", "TSLK02", "TSAR02")
KIND_WEIGHTS = {"set_status": 40, "install": 30, "set_group": 15, "remove": 10, "replace": 5}
STATE_SHARES = (("failed", 0.008), ("conflict", 0.004), ("discarded", 0.006), ("retrying", 2e-4))
STATUSES = ("installed", "quarantine", "retired", "uninstalled")
BULK_ACTIONS = ("retire", "quarantine", "uninstall", "move")
BULK_STATUS = {"retire": "retired", "quarantine": "quarantine", "uninstall": "uninstalled"}
REJECTION = "404 Deployment group not found"


def tuid_for(index: int) -> str:
    """Return device number `index`'s TUID: an IMC and an 11-digit PSN unique to the index."""
    return IMCS[index % len(IMCS)] + f"{(index * 7919 + 104729) % 10**11:011d}"


def group_for(index: int) -> str:
    """Return deployment group number `index`'s id."""
    return f"prfi00c{index:04d}"


def technician_name(index: int) -> str:
    """Return technician number `index`'s username (1-based)."""
    return f"tech{index:03d}"


@dataclass(frozen=True)
class Plan:
    """How big the fleet is; everything else follows from it and the seed."""

    operations: int

    @property
    def devices(self) -> int:
        return max(2 * BULK_JOB_SIZE, self.operations // 10)

    @property
    def bulk_jobs(self) -> int:
        return max(1, self.operations // (10 * BULK_JOB_SIZE))

    @property
    def bulk_job_size(self) -> int:
        return min(BULK_JOB_SIZE, self.devices // 2)

    @property
    def first_supervisor(self) -> int:
        return TECHNICIANS + 1

    @property
    def bench_user_id(self) -> int:
        return TECHNICIANS + SUPERVISORS + 1


class Generator:
    """Produce every row of the year, in an order that keeps ids increasing with time."""

    def __init__(self, plan: Plan, now: datetime, sink: Sink, password_hash: str) -> None:
        self.plan, self.now, self.sink = plan, now, sink
        self.password_hash = password_hash
        self.rng = random.Random(SEED)
        self.ids = dict.fromkeys(("op", "step", "attempt", "audit", "item"), 0)
        self.group_of = [self._home_group() for _ in range(plan.devices)]
        self.regular_seen = 0
        self.timeline_slots: set[int] = set()
        self.bulk_devices: dict[int, list[int]] = {}
        self.bulk_seen: dict[int, int] = {}

    def _put(self, table: str, **values: Any) -> None:
        self.sink.write(
            table, tuple(json.dumps(v) if isinstance(v, dict) else v for v in values.values())
        )

    def _next(self, counter: str) -> int:
        self.ids[counter] += 1
        return self.ids[counter]

    def _home_group(self) -> str:
        return group_for(int(GROUPS * self.rng.random() ** 2))  # a few large sites

    def _age(self) -> timedelta:
        return timedelta(days=365 * self.rng.random() ** 3)

    def run(self, history: bool = True) -> None:
        """Write people, groups and devices, and unless told otherwise the whole year."""
        self._people_and_places()
        if not history:
            self.sink.close()
            return
        jobs = self._bulk_jobs()
        for when, job in heapq.merge(self._regular_times(), jobs):
            if job:
                self._bulk_operation(when, job)
            else:
                self._regular_operation(when)
        self.sink.close()

    def _user(self, pk: int, username: str, name: str, role: str) -> None:
        self._put(
            "users", id=pk, username=username, display_name=name, role=role,
            password_hash=self.password_hash, active=True,
            created_at=self.now - timedelta(days=800),
        )  # fmt: skip

    def _people_and_places(self) -> None:
        for i in range(1, TECHNICIANS + 1):
            name = "Jääskeläinen, Jussi" if i == 7 else f"Technician {i}"
            self._user(i, technician_name(i), name, "technician")
        for n in range(1, SUPERVISORS + 1):
            self._user(TECHNICIANS + n, f"super{n}", f"Supervisor {n}", "supervisor")
        self._user(self.plan.bench_user_id, BENCH_USER, "Bench", "supervisor")
        for g in range(GROUPS):
            self._put(
                "deployment_groups", group_id=group_for(g), description=f"Site {g}",
                synced_at=self.now,
            )  # fmt: skip
        for d in range(self.plan.devices):
            tuid = tuid_for(d)
            self._put(
                "devices", tuid=tuid, device_type=device_type_for(tuid),
                status="installed" if self.rng.random() < 0.8 else self.rng.choice(STATUSES),
                group_id=self.group_of[d], source="platform",
                updated_at=self.now - timedelta(days=self.rng.random() * 30),
            )  # fmt: skip

    def _regular_times(self) -> Iterator[tuple[datetime, int]]:
        count = self.plan.operations - self.plan.bulk_jobs * self.plan.bulk_job_size
        times = sorted(self.now - self._age() - timedelta(minutes=10) for _ in range(count))
        self.timeline_slots = set(self.rng.sample(range(count), TIMELINE_OPS))
        return ((t, 0) for t in times)

    def _bulk_jobs(self) -> list[tuple[datetime, int]]:
        slots: list[tuple[datetime, int]] = []
        supervisor = self.plan.first_supervisor
        for job in range(1, self.plan.bulk_jobs + 1):
            at = self.now - self._age() - timedelta(hours=2)
            action = BULK_ACTIONS[job % len(BULK_ACTIONS)]
            self._put(
                "bulk_jobs", id=job, action=action,
                target_group=group_for(job) if action == "move" else None, source="csv",
                source_detail=f"job-{job}.csv", state="done", created_by_id=supervisor,
                created_at=at - timedelta(minutes=10), confirmed_at=at,
                finished_at=at + timedelta(minutes=30), cancelled_at=None,
                summary={"devices": self.plan.bulk_job_size},
            )  # fmt: skip
            self._put(
                "audit_events", id=self._next("audit"), at=at, user_id=supervisor,
                action="bulk.confirm", operation_id=None, tuid=None, reason=None,
                details={"job_id": job, "count": self.plan.bulk_job_size},
            )  # fmt: skip
            devices = range(1, self.plan.devices)
            self.bulk_devices[job] = self.rng.sample(devices, self.plan.bulk_job_size)
            self.bulk_seen[job] = 0
            slots += [(at, job)] * self.plan.bulk_job_size
        slots.sort()
        return slots

    def _regular_operation(self, when: datetime) -> None:
        rng = self.rng
        slot, self.regular_seen = self.regular_seen, self.regular_seen + 1
        device = 0 if slot in self.timeline_slots else rng.randrange(1, self.plan.devices)
        kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
        args: dict[str, Any] = {}
        if kind == "set_status":
            args = {"status": rng.choice(STATUSES)}
        elif kind in ("install", "set_group"):
            args = {"group_id": self.group_of[device] if rng.random() < 0.8 else self._home_group()}
        elif kind == "replace":
            new = rng.randrange(1, self.plan.devices - 1)
            args = {"new_tuid": tuid_for(new + (new >= device)), "old_status": "retired"}
        roll = rng.random()
        if roll < 0.8:
            delay = rng.expovariate(1 / 20)
        elif roll < 0.95:
            delay = rng.expovariate(1 / 900)
        else:
            delay = rng.uniform(3600, 48 * 3600)  # a shift offline
        received = max(when, min(when + timedelta(seconds=delay), self.now - timedelta(minutes=5)))
        user = 1 + int(TECHNICIANS * rng.random() ** 1.3)  # some technicians do more
        self._operation(kind, device, args, user, when, received, None)

    def _bulk_operation(self, when: datetime, job: int) -> None:
        action = BULK_ACTIONS[job % len(BULK_ACTIONS)]
        device = self.bulk_devices[job][self.bulk_seen[job]]
        self.bulk_seen[job] += 1
        if action == "move":
            kind, args = "set_group", {"group_id": group_for(job)}
        else:
            kind, args = "set_status", {"status": BULK_STATUS[action]}
        op_pk = self._operation(kind, device, args, self.plan.first_supervisor, when, when, job)
        self._put(
            "bulk_job_items", id=self._next("item"), job_id=job, line_no=self.bulk_seen[job],
            raw=tuid_for(device), tuid=tuid_for(device), verdict="change",
            current_status="installed", current_group=self.group_of[device], message=None,
            operation_id=op_pk,
        )  # fmt: skip

    def _state(self, bulk: bool) -> str:
        roll = self.rng.random()
        if bulk:
            return "failed" if roll < 0.01 else "synced"
        for state, share in STATE_SHARES:
            if roll < share:
                return state
            roll -= share
        return "synced"

    def _operation(
        self,
        kind: str,
        device: int,
        raw_args: dict[str, Any],
        user: int,
        when: datetime,
        received: datetime,
        job: int | None,
    ) -> int:
        rng, tuid = self.rng, tuid_for(device)
        args, steps = plan_steps(kind, tuid, raw_args)
        op_pk = self._next("op")
        state = self._state(job is not None)
        synced = received + timedelta(seconds=rng.uniform(0.2, 30))
        fail_at = len(steps) - 1 if kind == "install" else 0  # the group step, or the first
        error_code = error_message = None
        if state == "failed":
            error_code, error_message = "platform_rejected", REJECTION
        elif state == "conflict":
            error_code = "out_of_order"
            error_message = "A later action on this device reached the platform first."
        elif state == "retrying":
            error_code, error_message = "retrying", "503 Service Unavailable"
        self._put(
            "operations", id=op_pk, op_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            kind=kind, tuid=tuid, args=args, user_id=user, device_time=when, received_at=received,
            seen_status=rng.choice(STATUSES) if rng.random() < 0.9 else None,
            seen_group=self.group_of[device] if rng.random() < 0.9 else None,
            state="syncing" if state == "retrying" else state, error_code=error_code,
            error_message=error_message, synced_at=synced if state == "synced" else None,
            updated_at=synced if state in ("synced", "failed") else received, bulk_job_id=job,
        )  # fmt: skip
        for step_no, step in enumerate(steps):
            self._step(op_pk, step_no, step, state, step_no - fail_at, when, received, synced)
        self._audit(op_pk, tuid, state, synced)
        return op_pk

    def _step(
        self,
        op_pk: int,
        step_no: int,
        step: PlannedStep,
        op_state: str,
        from_failure: int,
        when: datetime,
        received: datetime,
        synced: datetime,
    ) -> None:
        step_pk = self._next("step")
        state, attempts, error, available = "done", 1, None, received
        if op_state == "failed" and from_failure >= 0:
            state, attempts = ("failed", 1) if from_failure == 0 else ("blocked", 0)
            error = REJECTION if from_failure == 0 else None
        elif op_state in ("conflict", "discarded"):
            state, attempts = ("held" if op_state == "conflict" else "cancelled"), 0
        elif op_state == "retrying":
            state, attempts = "pending", (4 if step_no == 0 else 0)
            error = "503 Service Unavailable" if step_no == 0 else None
            available = self.now + FAR_FUTURE
        result = step.value if step.action != "copy_group" else self._home_group()
        done = state == "done"
        self._put(
            "outbox", id=step_pk, operation_id=op_pk, step_no=step_no, tuid=step.tuid,
            action=step.action, value=step.value, order_at=when, state=state,
            available_at=available, lease_owner=None, lease_until=None, attempts=attempts,
            outcome_uncertain=False, last_error=error, result=result if done else None,
            completed_at=synced if done else None,
        )  # fmt: skip
        outcome, status, message = "applied", 200, None
        if state == "failed":
            outcome, status, message = "rejected", 404, REJECTION
        elif state == "pending":
            outcome, status, message = "retry", 503, "Service Unavailable"
        for n in range(1, attempts + 1):
            self._put(
                "sync_attempts", id=self._next("attempt"), step_id=step_pk, operation_id=op_pk,
                attempt_no=n, worker="worker-1", started_at=synced - timedelta(seconds=0.3),
                finished_at=synced, outcome=outcome, http_status=status, message=message,
            )  # fmt: skip

    def _audit(self, op_pk: int, tuid: str, state: str, at: datetime) -> None:
        roll = self.rng.random()
        supervisor = self.plan.first_supervisor + self.rng.randrange(SUPERVISORS)
        if state == "discarded":
            action, reason = "inbox.discard", "Device was stolen; not installed."
        elif state == "synced" and roll < 0.025:
            action, reason = "inbox.retry", None
        elif state == "synced" and roll < 0.028:
            action, reason = "inbox.edit", "Wrong group picked on site."
        else:
            return
        self._put(
            "audit_events", id=self._next("audit"), at=at, user_id=supervisor, action=action,
            operation_id=op_pk, tuid=tuid, reason=reason,
            details={"before": {"state": "failed"}, "after": {"state": "accepted"}},
        )  # fmt: skip


def fill(url: str, plan: Plan, now: datetime, password_hash: str, history: bool = True) -> None:
    """Write the plan's year into an empty, migrated database, then refresh its statistics.

    Without history: only the people, groups and device cache (the "empty" reference).
    """
    engine = create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    Generator(plan, now, sink_for(url, engine), password_hash).run(history)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if postgresql:
            for table in SERIAL_TABLES:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
            # A year-old database has been vacuumed and analysed: visibility maps, statistics.
            conn.execute(text("VACUUM (ANALYZE)"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def filled(url: str, plan: Plan) -> bool:
    """Tell whether the database already holds this plan's year (so --reuse can skip filling)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            bench_user = conn.execute(
                text("SELECT count(*) FROM users WHERE username = :u"), {"u": BENCH_USER}
            ).scalar()
            year = conn.execute(
                text("SELECT count(*) FROM operations WHERE id <= :n"), {"n": plan.operations}
            ).scalar()
            return bool(bench_user) and year == plan.operations
    except Exception:  # noqa: BLE001 - no schema yet, or another one: fill again
        return False
    finally:
        engine.dispose()


def add_backlog(
    url: str, devices: int, now: datetime, user_id: int, due: datetime | None = None
) -> int:
    """Add install operations on `devices` devices, waiting to be sent: two pending steps each.

    Phones coming back online after a day without signal; with `due`, steps that wait out a
    backoff until then. Returns the first new operation id.
    """
    engine = create_engine(url)
    with engine.connect() as conn:
        first_op = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM operations")).scalar())
        step = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar())
    sink, rng = sink_for(url, engine), random.Random(SEED + 1)
    times = sorted(now - timedelta(hours=24 * rng.random()) for _ in range(devices))
    for n, when in enumerate(times, start=1):
        op_pk, tuid, group = first_op + n, tuid_for(n), group_for(n % GROUPS)
        sink.write(
            "operations",
            (op_pk, str(uuid.UUID(int=rng.getrandbits(128), version=4)), "install", tuid,
             json.dumps({"group_id": group}), user_id, when, now, None, None, "accepted", None,
             None, None, now, None),
        )  # fmt: skip
        for step_no, (action, value) in enumerate(
            (("set_status", "installed"), ("set_group", group))
        ):
            step += 1
            sink.write(
                "outbox",
                (step, op_pk, step_no, tuid, action, value, when, "pending", due or now, None,
                 None, 0, False, None, None, None),
            )  # fmt: skip
    sink.close()
    engine.dispose()
    return first_op + 1


def remove_operations_from(url: str, first_op: int) -> None:
    """Delete the operations from this id on with their steps and attempts (bench additions)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Nothing references these rows any more, and bulk_job_items.operation_id has no
            # index: checking each deleted operation against it would read that table each time.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in ("sync_attempts", "outbox", "audit_events", "bulk_job_items"):
            conn.execute(text(f"DELETE FROM {table} WHERE operation_id >= :f"), {"f": first_op})
        conn.execute(text("DELETE FROM operations WHERE id >= :f"), {"f": first_op})
    engine.dispose()
