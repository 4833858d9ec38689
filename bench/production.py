"""Production scan throughput and job-cost latency.

    .venv/bin/python bench/production.py [--jobs 300] [--store sqlite|postgresql|both]

For each store it makes a fresh database (migrated by `isom.schema.upgrade`), loads the demo
plant's master data plus 20 cut operators and 10 cutters, receives wire, and releases `--jobs`
one-step jobs (cut red leads). It then applies, one event per transaction from one thread,
exactly the service calls the scan endpoints make (`db.write(..., one_command=True)`), each
kind over every job in turn, and prints for each kind events per second, statements and CPU
ms (`time.process_time`) per scan, and latency p50/p95:

- start: badge + job step + workstation (`production.start_step`);
- consume: a wire container into the step (`production.consume_scan` -> `ledger.consume`);
- machine: each cutter changes state between setup and run (`production.machine_state`),
  with every job started on it clocked on, so the machine split and its feed have work;
- leave: the operator leaves the step (it pauses: the last one out);
- resume: the operator resumes it on the cutter;
- stop: good quantity; produces the leads into a new container at the step's carried cost
  (`production.stop_step` -> `ledger.produce`, labour/machine split, cost carried).

Then the latency of `costing.job_cost` (the full actual-vs-standard report, read after each
event) as median and p95. Jobs run on 10 machines with overlapping time, so the machine split
has real work to do. Figures go to `bench/out/production-<time>.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.progress import track  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from isom import composition, schema  # noqa: E402
from isom.costing import services as costing  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.demo import DATA  # noqa: E402
from isom.ledger import services as ledger  # noqa: E402
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine  # noqa: E402
from isom.masterdata import imports as md_import  # noqa: E402
from isom.production import services as production  # noqa: E402
from isom.production.models import MachineState  # noqa: E402
from isom.production.schemas import (  # noqa: E402
    ConsumeScan,
    CreateWorkOrder,
    MachineStateCommand,
    StepScan,
    StopScan,
)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACTOR = ledger.Actor(name="bench", device="bench")
T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
STATIONS = 10
PEOPLE = 20
#: The scan kinds in the order the run applies them (each over every job).
KINDS = ("start", "consume", "machine", "leave", "resume", "stop")


@contextmanager
def store(kind: str) -> Iterator[Database]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db")
            yield db
            db.dispose()
        return
    name = f"isom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(db: Database, jobs: int) -> None:
    data = json.loads(DATA.read_text())
    data["workstations"] += [
        {
            "code": f"CUT-B{n}",
            "name": f"cutter {n}",
            "kind": "cutter",
            "location": "WS-CUT-1",
            "operations": ["cut"],
            "hourly_rate": "55",
        }
        for n in range(STATIONS)
    ]
    data["people"] += [
        {
            "code": f"P-B{n}",
            "name": f"Cutter {n}",
            "badge_code": f"BB{n}",
            "skills": ["cut"],
            "hourly_rate": "30",
        }
        for n in range(PEOPLE)
    ]

    def load(s: Session) -> None:
        for kind in md_import.KINDS:
            if data.get(kind):
                md_import.import_rows(s, kind, data[kind])

    db.write(load)
    for n in range(jobs // 30 + 1):
        cmd = ReceiveCommand(
            container=f"W-{n}",
            location="A-01",
            lines=[
                ReceiveLine(
                    item="WIRE-0.5-RD",
                    lot=LotIn(code=f"L{n}"),
                    quantity=Decimal(100),
                    unit_cost=Decimal("0.2"),
                )
            ],
            occurred_at=T0,
        )
        db.write(lambda s, cmd=cmd: ledger.receive(s, ACTOR, uuid.uuid4().hex, cmd))
    for _ in range(jobs):
        cmd = CreateWorkOrder(
            item="LEAD-RD-300",
            quantity=Decimal(10),
            release=True,
            due_date=dt.date(2026, 11, 30),
            occurred_at=T0,
        )
        db.write(lambda s, cmd=cmd: production.create_work_order(s, ACTOR, uuid.uuid4().hex, cmd))
    for w in range(STATIONS):
        cmd2 = MachineStateCommand(workstation=f"CUT-B{w}", state=MachineState.run, occurred_at=T0)
        db.write(lambda s, cmd=cmd2: production.machine_state(s, ACTOR, uuid.uuid4().hex, cmd))


class Counter:
    """Statements sent to the database (a `before_cursor_execute` listener on the engine)."""

    def __init__(self, db: Database) -> None:
        self.n = 0
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.n += 1


def timed(
    db: Database, counter: Counter, label: str, calls: list[Callable[[Session], Any]]
) -> dict[str, float]:
    """Apply each call in its own unit of work, as the scan endpoints do (`one_command`), with
    a progress bar: calls per second, statements and CPU ms per call, latency p50/p95."""
    lat = []
    statements = counter.n
    cpu = time.process_time()
    started = time.perf_counter()
    for call in track(calls, description=f"{label:<24}"):
        t = time.perf_counter()
        db.write(call, one_command=True)
        lat.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - started
    lat.sort()
    return {
        "per_s": len(calls) / wall,
        "statements": (counter.n - statements) / len(calls),
        "cpu_ms": (time.process_time() - cpu) * 1000 / len(calls),
        "p50_ms": statistics.median(lat),
        "p95_ms": lat[max(0, int(len(lat) * 0.95) - 1)],
    }


def step_scan(n: int, wo: str, at: dt.datetime, *, workstation: bool = False) -> StepScan:
    """Operator `n`'s badge on the job's one step (and its cutter, to start or resume)."""
    return StepScan(
        badge=f"BB{n % PEOPLE}",
        work_order=wo,
        step=10,
        workstation=f"CUT-B{n % STATIONS}" if workstation else None,
        occurred_at=at,
    )


def run(kind: str, jobs: int) -> dict[str, Any]:
    with store(kind) as db:
        schema.upgrade(db)
        seed(db, jobs)
        numbers = [f"WO-{n + 1:06d}" for n in range(jobs)]

        def at(n: int, minutes: int) -> dt.datetime:
            return T0 + dt.timedelta(minutes=2 * n + minutes)

        def call(op: Any, cmd: Any) -> Callable[[Session], Any]:
            key = uuid.uuid4().hex
            return lambda s: op(s, ACTOR, key, cmd)

        starts = [
            call(production.start_step, step_scan(n, wo, at(n, 0), workstation=True))
            for n, wo in enumerate(numbers)
        ]
        consumes = [
            call(
                production.consume_scan,
                ConsumeScan(
                    work_order=wo,
                    step=10,
                    container=f"W-{n // 30}",
                    item="WIRE-0.5-RD",
                    quantity=Decimal("3.05"),
                    occurred_at=at(n, 1),
                ),
            )
            for n, wo in enumerate(numbers)
        ]
        machines = [
            call(
                production.machine_state,
                MachineStateCommand(
                    workstation=f"CUT-B{n % STATIONS}",
                    state=(MachineState.setup, MachineState.run)[n // STATIONS % 2],
                    occurred_at=at(n, 1) + dt.timedelta(seconds=30),
                ),
            )
            for n in range(jobs)
        ]
        leaves = [
            call(production.leave_step, step_scan(n, wo, at(n, 2))) for n, wo in enumerate(numbers)
        ]
        resumes = [
            call(production.resume_step, step_scan(n, wo, at(n, 3), workstation=True))
            for n, wo in enumerate(numbers)
        ]
        stops = [
            call(
                production.stop_step,
                StopScan(
                    badge=f"BB{n % PEOPLE}",
                    work_order=wo,
                    step=10,
                    good_quantity=Decimal(10),
                    occurred_at=at(n, 30),
                ),
            )
            for n, wo in enumerate(numbers)
        ]
        counter = Counter(db)
        out: dict[str, Any] = {"store": kind, "jobs": jobs}
        scans = (starts, consumes, machines, leaves, resumes, stops)
        for label, calls in zip(KINDS, scans, strict=True):
            out[label] = timed(db, counter, f"{kind} {label}", calls)
        lat = []
        for wo in track(numbers[: min(100, jobs)], description=f"{kind + ' job cost':<24}"):
            t = time.perf_counter()
            db.read(lambda s, wo=wo: costing.job_cost(s, wo))
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        out["job_cost_ms_median"] = statistics.median(lat)
        out["job_cost_ms_p95"] = lat[int(len(lat) * 0.95) - 1]
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    composition.wire()  # the domains' reactions, as `isom serve` wires them
    kinds = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    results = [run(k, args.jobs) for k in kinds]
    print(  # noqa: T201
        f"{'store':<11}{'jobs':>6} {'scan':<9}{'per s':>8}{'stmts':>7}{'cpu ms':>8}"
        f"{'p50 ms':>8}{'p95 ms':>8}"
    )
    for r in results:
        for kind in KINDS:
            k = r[kind]
            print(  # noqa: T201
                f"{r['store']:<11}{r['jobs']:>6} {kind:<9}{k['per_s']:>8.0f}{k['statements']:>7.1f}"
                f"{k['cpu_ms']:>8.2f}{k['p50_ms']:>8.1f}{k['p95_ms']:>8.1f}"
            )
        print(  # noqa: T201
            f"{r['store']:<11}{r['jobs']:>6} job cost p50 {r['job_cost_ms_median']:.2f} ms, "
            f"p95 {r['job_cost_ms_p95']:.2f} ms"
        )
    out = ROOT / "bench" / "out" / f"production-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
