"""Production scan throughput and job-cost latency.

    .venv/bin/python bench/production.py [--jobs 300] [--store sqlite|postgresql|both]

For each store it makes a fresh database (migrated by `isom.schema.upgrade`), loads the demo
plant's master data plus 20 cut operators and 10 cutters, receives wire, and releases `--jobs`
one-step jobs (cut red leads). It then applies, one event per transaction from one thread,
exactly the service calls the scan endpoints make, and prints events per second for each kind:

- start: badge + job step + workstation (`production.start_step`);
- consume: a wire container into the step (`production.consume_scan` -> `ledger.consume`);
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
from sqlalchemy import create_engine, text  # noqa: E402
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


def timed(db: Database, label: str, calls: list[Callable[[Session], Any]]) -> float:
    """Apply each call in its own unit of work, with a progress bar; calls per second."""
    started = time.perf_counter()
    for call in track(calls, description=f"{label:<24}"):
        db.write(call)
    return len(calls) / (time.perf_counter() - started)


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
            call(
                production.start_step,
                StepScan(
                    badge=f"BB{n % PEOPLE}",
                    work_order=wo,
                    step=10,
                    workstation=f"CUT-B{n % STATIONS}",
                    occurred_at=at(n, 0),
                ),
            )
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
        out: dict[str, Any] = {"store": kind, "jobs": jobs}
        out["start_per_s"] = timed(db, f"{kind} start", starts)
        out["consume_per_s"] = timed(db, f"{kind} consume", consumes)
        out["stop_with_produce_per_s"] = timed(db, f"{kind} stop", stops)
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
    header = (
        f"{'store':<11}{'jobs':>6}{'start/s':>10}{'consume/s':>11}{'stop/s':>9}"
        f"{'cost p50 ms':>13}{'p95 ms':>9}"
    )
    print(header)  # noqa: T201
    for r in results:
        print(  # noqa: T201
            f"{r['store']:<11}{r['jobs']:>6}{r['start_per_s']:>10.0f}{r['consume_per_s']:>11.0f}"
            f"{r['stop_with_produce_per_s']:>9.0f}{r['job_cost_ms_median']:>13.2f}"
            f"{r['job_cost_ms_p95']:>9.2f}"
        )
    out = ROOT / "bench" / "out" / f"production-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
