"""Planning benchmark: projected inventory and netting over 5,000 items and 20,000 order lines.

    .venv/bin/python bench/planning.py [--items 5000] [--lines 20000] [--events 30]
                                       [--store sqlite|postgresql|both]

For each store: a fresh, migrated database with a three-level plant (finished items made from
two intermediates and a raw item, intermediates made from two raw items, raw items bought from
40 suppliers), stock received through the ledger service, `--lines` customer order lines and
open purchase lines through the order service, and planned and released jobs through the
production service. Then

1. full: every item's projection computed (`projection.compute`), computed and stored
   (`projection.refresh_all`), and multi-level netting over everything (`netting.net`);
2. incremental, per event: one event lands through its service (a receipt, a new customer
   order line, a released job), then `projection.refresh_dirty` reads the event logs after its
   cursors, marks the touched items and recomputes and stores only those. The time of the
   refresh is reported (median and p95), beside the time of the event's own write.

Figures are printed and written to `bench/out/planning-<time>.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.ledger import (  # noqa: E402
    console,
    postgres_available,
    postgres_store,
    progress,
    sqlite_store,
)
from isom import schema  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.ledger import services as ledger  # noqa: E402
from isom.ledger.schemas import ReceiveCommand, ReceiveLine  # noqa: E402
from isom.masterdata.models import (  # noqa: E402
    Customer,
    Item,
    ItemType,
    Location,
    LocationKind,
    Route,
    RouteStep,
    StepInput,
    StepOutput,
    Supplier,
    SupplierItem,
    Unit,
)
from isom.orders import services as orders  # noqa: E402
from isom.orders.schemas import CreateCustomerOrder, CreatePurchaseOrder  # noqa: E402
from isom.planning import netting, projection  # noqa: E402
from isom.production import services as production  # noqa: E402
from isom.production.schemas import CreateWorkOrder  # noqa: E402

ACTOR = ledger.Actor(name="bench", device="bench")
TODAY = dt.date.today()
D = Decimal


def table(model: Any) -> Table:
    return cast(Table, model.__table__)


def seed_masterdata(db: Database, items: int) -> dict[str, list[str]]:
    """Units, a site with bins, 40 suppliers, a customer, items in three levels with routes."""
    finished_n = items // 10
    inter_n = items // 5
    raw_n = items - finished_n - inter_n

    def build(s: Session) -> dict[str, list[str]]:
        ea = Unit(code="ea", name="each", decimals=0)
        s.add(ea)
        site = Location(code="SITE", name="Site", kind=LocationKind.site, path="")
        s.add(site)
        s.flush()
        site.site_id, site.path = site.id, f"/{site.id}/"
        bin_ = Location(code="BIN", name="Bin", kind=LocationKind.bin, parent_id=site.id)
        s.add(bin_)
        s.flush()
        bin_.site_id, bin_.path = site.id, f"/{site.id}/{bin_.id}/"
        s.add(Customer(code="CUS", name="Customer"))
        s.execute(
            insert(table(Supplier)),
            [
                {"code": f"SUP-{n:02d}", "name": f"Supplier {n}", "currency": "EUR", "active": True}
                for n in range(40)
            ],
        )
        codes = {
            "raw": [f"RAW-{n:05d}" for n in range(raw_n)],
            "inter": [f"INT-{n:05d}" for n in range(inter_n)],
            "finished": [f"FIN-{n:05d}" for n in range(finished_n)],
        }
        kinds = {"raw": ItemType.raw, "inter": ItemType.intermediate, "finished": ItemType.finished}
        s.execute(
            insert(table(Item)),
            [
                {
                    "code": c,
                    "name": c,
                    "type": kinds[k],
                    "base_unit_id": ea.id,
                    "tracking": "none",
                    "standard_cost": D(1),
                    "attributes": {},
                    "description": "",
                    "active": True,
                }
                for k, cs in codes.items()
                for c in cs
            ],
        )
        ids = dict(s.execute(select(Item.code, Item.id)).all())
        sups = [i for (i,) in s.execute(select(Supplier.id).order_by(Supplier.id))]
        s.execute(
            insert(table(SupplierItem)),
            [
                {
                    "supplier_id": sups[n % 40],
                    "item_id": ids[c],
                    "lead_time_days": 5 + n % 20,
                    "min_order_qty": D(100),
                    "order_multiple": D(50),
                    "price": D("1.5"),
                    "currency": "EUR",
                    "preferred": True,
                }
                for n, c in enumerate(codes["raw"])
            ],
        )
        raws, inters = codes["raw"], codes["inter"]
        for made, inputs in (
            (
                inters,
                lambda n: [
                    (raws[(2 * n) % len(raws)], D("0.5")),
                    (raws[(2 * n + 1) % len(raws)], D("0.5")),
                ],
            ),
            (
                codes["finished"],
                lambda n: [
                    (inters[(2 * n) % len(inters)], D(1)),
                    (inters[(2 * n + 1) % len(inters)], D(1)),
                    (raws[(7 * n) % len(raws)], D(2)),
                ],
            ),
        ):
            s.execute(
                insert(table(Route)),
                [
                    {
                        "code": f"R-{c}",
                        "name": c,
                        "item_id": ids[c],
                        "revision": "1",
                        "batch_size": D(1),
                        "active": True,
                    }
                    for c in made
                ],
            )
            routes = dict(
                s.execute(
                    select(Route.item_id, Route.id).where(Route.code.like(f"R-{made[0][:3]}%"))
                ).all()
            )
            s.execute(
                insert(table(RouteStep)),
                [
                    {
                        "route_id": routes[ids[c]],
                        "sequence": 10,
                        "operation": "make",
                        "name": "",
                        "workstation_kind": None,
                        "skill": None,
                        "setup_minutes": D(10),
                        "run_minutes": D(1),
                        "run_basis": "unit",
                        "cleanup_minutes": D(5),
                    }
                    for c in made
                ],
            )
            steps = dict(
                s.execute(
                    select(RouteStep.route_id, RouteStep.id).where(
                        RouteStep.route_id.in_(list(routes.values()))
                    )
                ).all()
            )
            s.execute(
                insert(table(StepInput)),
                [
                    {
                        "step_id": steps[routes[ids[c]]],
                        "item_id": ids[i],
                        "quantity_per": q,
                        "floor_stock": False,
                    }
                    for n, c in enumerate(made)
                    for i, q in inputs(n)
                ],
            )
            s.execute(
                insert(table(StepOutput)),
                [
                    {
                        "step_id": steps[routes[ids[c]]],
                        "item_id": ids[c],
                        "kind": "main",
                        "quantity_per": D(1),
                    }
                    for c in made
                ],
            )
        return codes

    return db.write(build)


def seed_documents(db: Database, codes: dict[str, list[str]], lines: int) -> None:
    """Stock, customer orders, purchase orders and jobs, each through its service."""
    raws, finished = codes["raw"], codes["finished"]
    stocked = raws[: len(raws) * 2 // 3] + finished[: len(finished) // 2]
    per_order = 500
    with progress() as bar:
        task = bar.add_task("stock (ledger receive)", total=len(stocked))
        for start in range(0, len(stocked), 100):
            chunk = stocked[start : start + 100]
            cmd = ReceiveCommand(
                container=None,
                location="BIN",
                lines=[ReceiveLine(item=c, quantity=D(50 + n % 300)) for n, c in enumerate(chunk)],
            )
            k = uuid.uuid4().hex
            db.write(lambda s, cmd=cmd, k=k: ledger.receive(s, ACTOR, k, cmd))
            bar.advance(task, len(chunk))
        task = bar.add_task("customer order lines (order service)", total=lines)
        for o in range(0, lines, per_order):
            body = [
                {
                    "item": finished[(o + n) * 7 % len(finished)],
                    "quantity": str(1 + (o + n) % 20),
                    "due_date": (TODAY + dt.timedelta(days=(o + n) % 90)).isoformat(),
                }
                for n in range(min(per_order, lines - o))
            ]
            cmd = CreateCustomerOrder.model_validate(
                {
                    "customer": "CUS",
                    "priority": ("rush", "normal", "low")[o // per_order % 3],
                    "lines": body,
                }
            )
            k = uuid.uuid4().hex
            db.write(lambda s, cmd=cmd, k=k: orders.create_customer_order(s, ACTOR, k, cmd))
            bar.advance(task, len(body))
        task = bar.add_task("purchase lines (order service)", total=2000)
        for p in range(10):
            body = [
                {
                    "item": raws[(p * 200 + n) * 3 % len(raws)],
                    "quantity": "500",
                    "due_date": (TODAY + dt.timedelta(days=5 + n % 40)).isoformat(),
                }
                for n in range(200)
                if (p * 200 + n) * 3 % len(raws) % 40 == p * 4 % 40
            ] or [{"item": raws[p], "quantity": "500"}]
            cmd = CreatePurchaseOrder.model_validate(
                {"supplier": f"SUP-{p * 4 % 40:02d}", "approve": True, "lines": body}
            )
            k = uuid.uuid4().hex
            db.write(lambda s, cmd=cmd, k=k: orders.create_purchase_order(s, ACTOR, k, cmd))
            bar.advance(task, 200)
        task = bar.add_task("jobs (production service)", total=400)
        for n in range(400):
            cmd = CreateWorkOrder(
                item=finished[n * 3 % len(finished)],
                quantity=D(10 + n % 40),
                due_date=TODAY + dt.timedelta(days=10 + n % 60),
                release=n % 4 == 0,
            )
            k = uuid.uuid4().hex
            db.write(lambda s, cmd=cmd, k=k: production.create_work_order(s, ACTOR, k, cmd))
            bar.advance(task)


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def bench_store(name: str, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    schema.upgrade(db)
    console.print(f"[bold]{name}[/bold]: seeding {args.items} items, {args.lines} lines")
    codes = seed_masterdata(db, args.items)
    seed_documents(db, codes, args.lines)
    out: dict[str, Any] = {"store": name}
    db.write(lambda s: projection.refresh_all(s, TODAY))  # warm caches, move the cursors
    runs = [timed(lambda: db.read(lambda s: projection.compute(s, None, TODAY))) for _ in range(3)]
    out["full_compute_s"] = min(t for t, _ in runs)
    out["items_projected"] = len(runs[0][1])
    out["full_refresh_s"] = min(
        timed(lambda: db.write(lambda s: projection.refresh_all(s, TODAY)))[0] for _ in range(3)
    )
    nets = [timed(lambda: db.read(lambda s: netting.net(s, TODAY))) for _ in range(3)]
    out["full_netting_s"] = min(t for t, _ in nets)
    out["planned_orders"] = len(nets[0][1].planned)
    raws, finished = codes["raw"], codes["finished"]

    def receipt(n: int) -> None:
        cmd = ReceiveCommand(
            container=None,
            location="BIN",
            lines=[ReceiveLine(item=raws[n * 13 % len(raws)], quantity=D(10))],
        )
        k = uuid.uuid4().hex
        db.write(lambda s: ledger.receive(s, ACTOR, k, cmd))

    def order_line(n: int) -> None:
        cmd = CreateCustomerOrder.model_validate(
            {
                "customer": "CUS",
                "lines": [
                    {
                        "item": finished[n * 11 % len(finished)],
                        "quantity": "5",
                        "due_date": (TODAY + dt.timedelta(days=20)).isoformat(),
                    }
                ],
            }
        )
        k = uuid.uuid4().hex
        db.write(lambda s: orders.create_customer_order(s, ACTOR, k, cmd))

    def job(n: int) -> None:
        cmd = CreateWorkOrder(
            item=finished[n * 17 % len(finished)],
            quantity=D(20),
            due_date=TODAY + dt.timedelta(days=30),
            release=True,
        )
        k = uuid.uuid4().hex
        db.write(lambda s: production.create_work_order(s, ACTOR, k, cmd))

    out["events"] = {}
    with progress() as bar:
        for label, event in (
            ("receipt", receipt),
            ("customer line", order_line),
            ("released job", job),
        ):
            task = bar.add_task(f"incremental after a {label}", total=args.events)
            writes, refreshes, touched = [], [], []
            for n in range(args.events):
                writes.append(timed(lambda event=event, n=n: event(n))[0])
                t, dirty = timed(lambda: db.write(lambda s: projection.refresh_dirty(s, TODAY)))
                refreshes.append(t)
                touched.append(len(dirty))
                bar.advance(task)
            out["events"][label] = {
                "event_write_ms_p50": statistics.median(writes) * 1000,
                "refresh_ms_p50": statistics.median(refreshes) * 1000,
                "refresh_ms_p95": pct(refreshes, 0.95) * 1000,
                "items_per_refresh": statistics.median(touched),
            }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--events", type=int, default=30, help="events per incremental phase")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args(argv)
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    if "postgresql" in stores and postgres_available() is None:
        stores.remove("postgresql")
    results = []
    for name in stores:
        with sqlite_store() if name == "sqlite" else postgres_store() as db:
            results.append(bench_store(name, db, args))
    for r in results:
        console.print(
            f"[bold]{r['store']}[/bold]: {r['items_projected']} items; full compute "
            f"{r['full_compute_s']:.2f} s, full compute+store {r['full_refresh_s']:.2f} s, "
            f"netting {r['full_netting_s']:.2f} s ({r['planned_orders']} planned orders)"
        )
        for label, e in r["events"].items():
            console.print(
                f"  after a {label}: refresh p50 {e['refresh_ms_p50']:.1f} ms, p95 "
                f"{e['refresh_ms_p95']:.1f} ms, {e['items_per_refresh']:.0f} items "
                f"(the event's own write p50 {e['event_write_ms_p50']:.1f} ms)"
            )
    if not args.no_json:
        path = ROOT / "bench" / "out" / f"planning-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
        console.print(f"figures written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
