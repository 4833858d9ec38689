"""Agents benchmark: a burst of customer order lines, and the time to a settled plan.

    .venv/bin/python bench/agents.py [--lines 300 3000] [--store sqlite|postgresql|both]

For each store and burst size: a fresh, migrated database with the demo plant's master data and
some stock; the burst (`--lines` lines over 38 % as many orders, the demo's finished items,
quantities 1-50, due in 3-20 days, a fifth rush and a tenth low) through the order service;
then the agents run (`runner.run_all`, as the scheduler does after its debounce) until a run
decides nothing. Reported: the time from the last order to the settled plan (and the CPU time
this process spent in it: on a shared machine the wall time mostly measures the others), the
decisions and the decisions per second, the SQL statements the settle sent (SAVEPOINT and
RELEASE included: round trips, which on PostgreSQL are the cost, and which do not depend on
the machine's load), the time of the run that finds nothing to do, and, as
the physical limit, the raw commit rate of the same store (one tiny insert per transaction) in
the same run.
Figures are printed and written to `bench/out/agents-<time>.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.ledger import (  # noqa: E402
    console,
    postgres_available,
    postgres_store,
    progress,
    raw_insert_rate,
    sqlite_store,
)
from isom import schema  # noqa: E402
from isom.agents import runner  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.ledger import services as ledger  # noqa: E402
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine  # noqa: E402
from isom.masterdata import imports as md_import  # noqa: E402
from isom.orders import services as orders  # noqa: E402
from isom.orders.schemas import CreateCustomerOrder  # noqa: E402

ACTOR = ledger.Actor(name="bench", device="bench")
D = Decimal
TODAY = dt.date.today()
DEMO = ROOT / "isom" / "demo" / "plant.json"
FINISHED = ("HARN-JST-300", "CORD-M8-2M")
CUSTOMERS = ("ACME-ROBOTICS", "NORDIC-AGRI", "SENSORPRO")
STOCK = (
    ("HARN-JST-300", "60", "FG-01"),
    ("WIRE-0.5-RD", "300", "A-01"),
    ("CABLE-4C-GY", "200", "A-01"),
    ("TERM-JST", "20000", "WS-CRIMP-1"),
)


def plant(db: Database) -> None:
    """The demo's master data and a little stock, far from enough for the burst."""
    data = json.loads(DEMO.read_text())

    def load(s: Session) -> None:
        for kind in md_import.KINDS:
            if data.get(kind):
                md_import.import_rows(s, kind, data[kind])

    db.write(load)
    for n, (item, qty, where) in enumerate(STOCK):
        cmd = ReceiveCommand(
            container=f"BENCH-{n}",
            location=where,
            lines=[
                ReceiveLine(
                    item=item,
                    lot=LotIn(code=f"B{n}") if item != "TERM-JST" else None,
                    quantity=D(qty),
                    unit_cost=D(1),
                )
            ],
        )
        receive_one(db, cmd, f"bench-stock-{n}")


def receive_one(db: Database, cmd: ReceiveCommand, key: str) -> None:
    db.write(lambda s: ledger.receive(s, ACTOR, key, cmd))


def place(db: Database, cmd: CreateCustomerOrder, key: str) -> None:
    db.write(lambda s: orders.create_customer_order(s, ACTOR, key, cmd))


def burst(seed: int, lines: int) -> Iterator[CreateCustomerOrder]:
    """`lines` lines over 38 % as many orders (114 orders for 300 lines)."""
    rng = random.Random(seed)
    count = max(1, round(lines * 0.38))
    sizes = [1] * count
    for _ in range(lines - count):
        sizes[rng.randrange(count)] += 1
    for n, size in enumerate(sizes, start=1):
        roll = rng.random()
        yield CreateCustomerOrder.model_validate(
            {
                "number": f"SO-B{n:05d}",
                "customer": rng.choice(CUSTOMERS),
                "priority": "rush" if roll < 0.2 else "low" if roll > 0.9 else "normal",
                "lines": [
                    {
                        "item": rng.choice(FINISHED),
                        "quantity": rng.randint(1, 50),
                        "due_date": (TODAY + dt.timedelta(days=rng.randint(3, 20))).isoformat(),
                    }
                    for _ in range(size)
                ],
            }
        )


class StatementCount:
    """What the process sends the store: statements (SAVEPOINT and RELEASE included) and
    transactions. These are the round trips a settle costs, and do not depend on the load."""

    EVENTS = ("before_cursor_execute", "commit", "rollback")

    def __init__(self, db: Database) -> None:
        self.db, self.statements, self.transactions = db, 0, 0

    def __enter__(self) -> StatementCount:
        event.listen(self.db.engine, "before_cursor_execute", self._statement)
        event.listen(self.db.engine, "commit", self._transaction)
        event.listen(self.db.engine, "rollback", self._transaction)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._statement)
        event.remove(self.db.engine, "commit", self._transaction)
        event.remove(self.db.engine, "rollback", self._transaction)

    def _statement(self, *_args: object) -> None:
        self.statements += 1

    def _transaction(self, *_args: object) -> None:
        self.transactions += 1


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_store(name: str, db: Database, lines: int) -> dict[str, Any]:
    """One store, one burst size: the burst, then the agents until they settle."""
    schema.upgrade(db)
    raw = raw_insert_rate(db, 300, 1)
    plant(db)
    wanted = list(burst(12, lines))
    with progress() as bar:
        task = bar.add_task(f"{name}: burst of {lines} lines", total=len(wanted))
        start = time.perf_counter()
        for n, cmd in enumerate(wanted):
            place(db, cmd, f"b-{n}")
            bar.advance(task)
        burst_s = time.perf_counter() - start
    load_before = load()
    runs: list[dict[str, Any]] = []
    with progress() as bar:
        task = bar.add_task(f"{name}: agents until settled", total=None)
        start, cpu = time.perf_counter(), time.process_time()
        while True:
            t = time.perf_counter()
            with StatementCount(db) as sent:
                made = {r.agent: r.decisions for r in runner.run_all(db, today=TODAY)}
            runs.append(
                {
                    "decisions": made,
                    "s": time.perf_counter() - t,
                    "statements": sent.statements,
                    "transactions": sent.transactions,
                }
            )
            bar.advance(task)
            if not any(made.values()) or len(runs) >= 5:
                break
        settle_s = time.perf_counter() - start
        settle_cpu_s = time.process_time() - cpu
    decisions = sum(sum(r["decisions"].values()) for r in runs)
    statements = sum(r["statements"] for r in runs)
    return {
        "store": name,
        "lines": lines,
        "burst_s": burst_s,
        "settle_s": settle_s,
        "settle_cpu_s": settle_cpu_s,
        "decisions": decisions,
        "statements": statements,
        "statements_per_decision": statements / decisions if decisions else 0.0,
        "decisions_per_s": decisions / settle_s if settle_s else 0.0,
        "runs": runs,
        "idle_run_s": runs[-1]["s"],
        "idle_run_statements": runs[-1]["statements"],
        "raw_commits_per_s": raw,
        "load_before": load_before,
        "load_after": load(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args(argv)
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    if "postgresql" in stores and postgres_available() is None:
        stores.remove("postgresql")
    results = []
    for lines in args.lines:
        for name in stores:
            with sqlite_store() if name == "sqlite" else postgres_store() as db:
                results.append(bench_store(name, db, lines))
            report(results[-1])
    if not args.no_json:
        path = ROOT / "bench" / "out" / f"agents-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
        console.print(f"figures written to {path.relative_to(ROOT)}")
    return 0


def report(r: dict[str, Any]) -> None:
    """One store's and size's figures, as soon as they are measured."""
    console.print(
        f"[bold]{r['store']}[/bold] {r['lines']} lines: settled {r['settle_s']:.1f} s after "
        f"the last order ({r['settle_cpu_s']:.1f} s CPU of this process; "
        f"{len(r['runs'])} runs, {r['decisions']} decisions, "
        f"{r['decisions_per_s']:.0f}/s; {r['statements']} SQL statements, "
        f"{r['statements_per_decision']:.1f} per decision; a run with nothing to do "
        f"{r['idle_run_s']:.2f} s, {r['idle_run_statements']} statements); "
        f"burst {r['burst_s']:.1f} s; raw commits {r['raw_commits_per_s']:.0f}/s; "
        f"load {r['load_before']} -> {r['load_after']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
