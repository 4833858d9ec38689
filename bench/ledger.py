"""Ledger throughput and query benchmark.

    .venv/bin/python bench/ledger.py [--quick] [--store sqlite|postgresql|both]

For each store it makes a fresh database, migrates it with `isom.schema.upgrade` and seeds a
small plant, then measures in one run:

1. the raw single-row INSERT + COMMIT rate of the same database through the same engine and
   settings (the physical limit of one durable event per transaction);
2. receives/s and moves/s through the real services, as the API door runs them
   (`db.write(lambda s: ledger.receive(...), one_command=True)`), one event per transaction:
   SQLite from one process and thread, PostgreSQL from 8 client threads (each with its own
   sessions); the ratio to (1) at the same concurrency; then, from one client, the statements
   (counted by a `before_cursor_execute` listener) and the CPU time per receive and per move;
3. the inventory query (`isom.ledger.queries.inventory` by item, by location subtree, by lot;
   median and p95) with 10k, 100k and 1M events of history;
4. `isom.ledger.verify.verify` on the 1M-event ledger (it must report no difference).

The long history is written in bulk (SQLite `executemany`, PostgreSQL `COPY`) in the exact
shape the services write: per receive an event, 2 lines, a move row, a lot every 20
receives of a lot-tracked item, a genealogy edge and 2 outbox rows; per move an event, a move
row and 3 outbox rows; per shipment an event, 2 lines, a move row and 2 outbox rows.
Containers and contents are written with their final state, the balance projection is then
rebuilt from contents, and `verify` confirms the whole is consistent with the events.

SQLite also gets an informative run with `PRAGMA synchronous=NORMAL` (not durable against
power loss; the product default stays FULL). Figures are printed as a table and written to
`bench/out/ledger-<time>.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from isom import composition, schema  # noqa: E402
from isom.config import get_settings  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.ledger import queries  # noqa: E402
from isom.ledger import services as ledger  # noqa: E402
from isom.ledger.models import Event  # noqa: E402
from isom.ledger.schemas import LotIn, MoveCommand, ReceiveCommand, ReceiveLine  # noqa: E402
from isom.ledger.verify import verify  # noqa: E402
from isom.masterdata.models import (  # noqa: E402
    Customer,
    Item,
    ItemType,
    Location,
    LocationKind,
    Supplier,
    Tracking,
    Unit,
)

console = Console()
composition.wire()  # the domains' reactions, as `isom serve` wires them
PG_ADMIN_URL = os.environ.get(
    "ISOM_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ITEMS = 20  # ITEM-00 .. ITEM-19; odd ones are lot-tracked
AREAS = 4
BINS_PER_AREA = 10
PG_CLIENTS = 8
STANDING_STOCK = 5_000  # bulk history ships the oldest container beyond this many
LOT_EVERY = 20  # a lot-tracked item gets a new lot every this many receives


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<42}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


# ---------------------------------------------------------------------------------------------
# Stores


@contextmanager
def sqlite_store(synchronous: str = "FULL") -> Iterator[Database]:
    tmp = Path(tempfile.mkdtemp(prefix="isom-bench-"))
    settings = dataclasses.replace(get_settings(), sqlite_synchronous=synchronous)
    db = Database(f"sqlite:///{tmp / 'bench.db'}", settings=settings)
    try:
        yield db
    finally:
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def postgres_store() -> Iterator[Database]:
    name = f"isom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        console.print(f"[yellow]PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}[/yellow]")
        return None


# ---------------------------------------------------------------------------------------------
# Plant


@dataclasses.dataclass
class Plant:
    site_id: int
    areas: list[str]
    bins: list[str]
    bin_ids: list[int]
    items: list[tuple[int, str, bool]]  # id, code, lot-tracked
    supplier_id: int


def seed(db: Database) -> Plant:
    def build(s: Session) -> Plant:
        ea = Unit(code="ea", name="each", decimals=0)
        m = Unit(code="m", name="metre", decimals=3)
        s.add_all([ea, m])
        s.flush()

        def location(code: str, kind: LocationKind, parent: Location | None) -> Location:
            loc = Location(
                code=code, name=code, kind=kind, parent_id=parent.id if parent else None, path=""
            )
            s.add(loc)
            s.flush()
            loc.site_id = parent.site_id if parent else loc.id
            loc.path = (parent.path if parent else "/") + f"{loc.id}/"
            s.flush()
            return loc

        site = location("SITE", LocationKind.site, None)
        areas, bins = [], []
        for a in range(AREAS):
            area = location(f"AREA-{a}", LocationKind.area, site)
            areas.append(area)
            for b in range(BINS_PER_AREA):
                bins.append(location(f"BIN-{a}-{b:02d}", LocationKind.bin, area))
        items = []
        for i in range(ITEMS):
            tracked = i % 2 == 1
            it = Item(
                code=f"ITEM-{i:02d}",
                name=f"Item {i}",
                type=ItemType.raw,
                base_unit_id=(m if i % 4 == 3 else ea).id,
                tracking=Tracking.lot if tracked else Tracking.none,
                standard_cost=Decimal("1.25"),
                attributes={},
            )
            s.add(it)
            s.flush()
            items.append((it.id, it.code, tracked))
        sup = Supplier(code="SUP", name="A Supplier")
        s.add(sup)
        s.add(Customer(code="CUS", name="A Customer"))
        s.flush()
        return Plant(
            site_id=site.id,
            areas=[a.code for a in areas],
            bins=[b.code for b in bins],
            bin_ids=[b.id for b in bins],
            items=items,
            supplier_id=sup.id,
        )

    return db.write(build)


# ---------------------------------------------------------------------------------------------
# Rates


def run_clients(
    label: str, total: int, clients: int, work: Callable[[int], None]
) -> tuple[float, float]:
    """Run work(0..total-1) from `clients` threads; return (events/s, seconds)."""
    counter = iter(range(total))
    lock = threading.Lock()
    errors: list[BaseException] = []
    with progress() as bar:
        task = bar.add_task(label, total=total)

        def worker() -> None:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None or errors:
                    return
                try:
                    work(i)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return
                bar.advance(task)

        started = time.perf_counter()
        if clients == 1:
            worker()
        else:
            threads = [threading.Thread(target=worker) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return total / elapsed, elapsed


def raw_insert_rate(db: Database, total: int, clients: int) -> float:
    """One tiny row per transaction through the same engine (same PRAGMAs, BEGIN IMMEDIATE)."""
    pk = "INTEGER PRIMARY KEY" if db.is_sqlite else "BIGSERIAL PRIMARY KEY"
    with db.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_raw (id {pk}, v INTEGER NOT NULL)"))
    stmt = text("INSERT INTO bench_raw (v) VALUES (:v)")

    def one(i: int) -> None:
        with db.engine.begin() as conn:
            conn.execute(stmt, {"v": i})

    rate, _ = run_clients(f"raw insert+commit ({clients} client)", total, clients, one)
    return rate


@dataclasses.dataclass
class EventCost:
    """What one event costs in process, one client: statements sent and CPU time."""

    statements: float  # data statements per event (SELECT, INSERT, UPDATE, DELETE)
    control: float  # transaction control per event (BEGIN, SAVEPOINT, RELEASE)
    cpu_ms: float  # time.process_time per event (SQLite's own work included; PostgreSQL's not)


_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


def event_cost(
    db: Database, label: str, n: int, work: Callable[[int], None], *, show: bool = False
) -> EventCost:
    """Run work(0..n-1) from one client, counting statements (before_cursor_execute) and CPU;
    `show` prints the statements of the last event (or read)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engines = {db.engine, db.read_engine}  # SQLite reads have their own engine
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        cpu = time.process_time()
        for i in range(n):
            work(i)
        cpu = time.process_time() - cpu
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    control = sum(1 for st in sent if st.lstrip().upper().startswith(_CONTROL))
    cost = EventCost((len(sent) - control) / n, control / n, 1000 * cpu / n)
    console.print(
        f"{label}: {cost.statements:.1f} statements + {cost.control:.1f} transaction control, "
        f"{cost.cpu_ms:.2f} ms CPU per event"
    )
    if show:
        per_event = len(sent) // n
        for statement in sent[-per_event:]:
            console.print("   ", " ".join(statement.split())[:150], markup=False)
    return cost


@dataclasses.dataclass
class RateResult:
    store: str
    setting: str
    clients: int
    events: int
    raw_per_s: float
    receives_per_s: float
    moves_per_s: float
    receive_cost: EventCost
    move_cost: EventCost


def service_rates(
    db: Database,
    plant: Plant,
    *,
    store: str,
    setting: str,
    clients: int,
    n: int,
    cost_only: bool = False,
) -> RateResult:
    actor = ledger.Actor("bench", device="bench")
    run = uuid.uuid4().hex[:8]
    raw = raw_insert_rate(db, max(n, 1000), clients)

    def receive_cmd(i: int) -> ReceiveCommand:
        _id, code, tracked = plant.items[i % ITEMS]
        return ReceiveCommand(
            container=f"B{run}-{i:06d}",
            location=plant.bins[i % len(plant.bins)],
            supplier="SUP",
            reference=f"PO-{i // 50}",
            lines=[
                ReceiveLine(
                    item=code,
                    lot=LotIn(code=f"L{run}-{i // (ITEMS * 10)}") if tracked else None,
                    quantity=Decimal(10 + i % 7),
                    unit_cost=Decimal("2.5"),
                )
            ],
        )

    def receive(i: int) -> None:
        cmd = receive_cmd(i)
        db.write(lambda s: ledger.receive(s, actor, f"bench-r-{run}-{i}", cmd), one_command=True)

    def move(i: int) -> None:
        cmd = MoveCommand(
            container=f"B{run}-{i:06d}", to_location=plant.bins[(i + 1 + i % 3) % len(plant.bins)]
        )
        db.write(lambda s: ledger.move(s, actor, f"bench-m-{run}-{i}", cmd), one_command=True)

    warm = 20
    for i in range(n, n + warm):  # warm caches and pools outside the timed part
        receive(i)
        move(i)
    # Cost per event: one client, after the warm-up, on events beyond the timed ones.
    first, costed = n + warm, min(n, 300)
    receive_cost = event_cost(
        db, f"{store} {setting}: receive", costed, lambda i: receive(first + i), show=cost_only
    )
    move_cost = event_cost(
        db, f"{store} {setting}: move", costed, lambda i: move(first + i), show=cost_only
    )
    if cost_only:
        reads = min(costed, 100)
        event_cost(
            db,
            f"{store} {setting}: container read",
            reads,
            lambda i: db.read(lambda s: queries.container(s, f"B{run}-{first + i:06d}")),
            show=True,
        )
        event_cost(
            db,
            f"{store} {setting}: inventory by item",
            reads,
            lambda i: db.read(lambda s: queries.inventory(s, item=plant.items[i % ITEMS][1])),
            show=True,
        )
        return RateResult(store, setting, 1, costed, 0, 0, 0, receive_cost, move_cost)
    rec_rate, _ = run_clients(
        f"{store} {setting}: receives ({clients} client)", n, clients, receive
    )
    mov_rate, _ = run_clients(f"{store} {setting}: moves ({clients} client)", n, clients, move)
    return RateResult(store, setting, clients, n, raw, rec_rate, mov_rate, receive_cost, move_cost)


# ---------------------------------------------------------------------------------------------
# Bulk history, in the shape the services write


EVENT_COLS = (
    "id key kind occurred_at recorded_at site_id location_id actor device reference command result"
).split()
CONTAINER_COLS = (
    "id code kind status location_id site_id created_event_id updated_event_id updated_at"
).split()
LOT_COLS = "id item_id code supplier_id created_event_id".split()
LINE_COLS = "id event_id container_id place item_id lot_id status quantity unit_cost".split()
MOVE_COLS = "id event_id container_id from_location_id to_location_id from_status to_status".split()
GENEALOGY_COLS = "id event_id to_lot_id to_container_id item_id quantity".split()
OUTBOX_COLS = "id event_id topic message_key payload created_at sent_at".split()
CONTENT_COLS = "container_id item_id lot_id status quantity unit_cost".split()

MICRO = 1_000_000


class History:
    """Appends events in bulk and keeps the projections consistent with them."""

    def __init__(self, db: Database, plant: Plant) -> None:
        self.db = db
        self.plant = plant
        # container id -> [location id, item id, lot id, qty micros, cost micros, code]
        self.live: dict[int, list[Any]] = {}
        self.order: deque[int] = deque()
        self.receives = 0
        self.lot_of_item: dict[int, int] = {}
        self.lot_code: dict[int, str] = {}
        self.item_code = {i: c for i, c, _ in plant.items}
        self.tracked = {i for i, _c, t in plant.items if t}
        self.bin_code = dict(zip(plant.bin_ids, plant.bins, strict=True))
        self.base = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)

    def _ts(self, event_id: int) -> Any:
        value = self.base + dt.timedelta(seconds=event_id * 0.03)
        if self.db.is_sqlite:
            return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def _max_ids(self) -> dict[str, int]:
        tables = {
            "event": "ledger_event",
            "container": "ledger_container",
            "lot": "ledger_lot",
            "line": "ledger_event_line",
            "move": "ledger_event_move",
            "genealogy": "ledger_genealogy",
            "outbox": "ledger_outbox",
        }
        with self.db.engine.connect() as conn:
            out = {
                k: conn.execute(text(f"SELECT max(id) FROM {t}")).scalar() or 0
                for k, t in tables.items()
            }
            conn.rollback()
        return out

    def extend(self, count: int, label: str, chunk: int = 25_000) -> None:
        with progress() as bar:
            task = bar.add_task(label, total=count)
            done = 0
            while done < count:
                step = min(chunk, count - done)
                self._chunk(step)
                done += step
                bar.update(task, completed=done)
        self._rebuild_balances()

    def _chunk(self, count: int) -> None:
        ids = self._max_ids()
        rows: dict[str, list[tuple[Any, ...]]] = {
            k: [] for k in ("event", "container", "lot", "line", "move", "genealogy", "outbox")
        }
        new_containers: set[int] = set()
        touched_old: set[int] = set()
        shipped_old: list[int] = []
        updated_event: dict[int, int] = {}
        site = self.plant.site_id
        bins = self.plant.bin_ids

        def next_id(kind: str) -> int:
            ids[kind] += 1
            return ids[kind]

        def outbox(eid: int, kind: str, key: str, ts: Any, balances: list[tuple[str, str]]) -> None:
            head = (
                f'{{"event_id":{eid},"event_key":"{key}","kind":"{kind}","occurred_at":"{ts}",'
                f'"recorded_at":"{ts}","actor":"bench","device":"bench","reason":null,'
                f'"reference":null'
            )
            rows["outbox"].append(
                (
                    next_id("outbox"),
                    eid,
                    f"ledger.{kind}",
                    f"event:{eid}",
                    head + ',"lines":[]}',
                    ts,
                    ts,
                )
            )
            for item, loc in balances:
                rows["outbox"].append(
                    (
                        next_id("outbox"),
                        eid,
                        "inventory.changed",
                        f"{item}@{loc}",
                        head
                        + f',"item":"{item}","location":"{loc}","delta":"10","quantity":"10"}}',
                        ts,
                        ts,
                    )
                )

        for _ in range(count):
            eid = next_id("event")
            ts = self._ts(eid)
            key = f"hist-{eid}"
            n = eid % 5
            if n == 0 or not self.live:
                # receive
                cid = next_id("container")
                item_id, item_code, tracked = self.plant.items[self.receives % ITEMS]
                self.receives += 1
                lot_id = None
                if tracked:
                    lot_id = self.lot_of_item.get(item_id)
                    if lot_id is None or self.receives % (ITEMS * LOT_EVERY) < ITEMS:
                        lot_id = next_id("lot")
                        self.lot_of_item[item_id] = lot_id
                        self.lot_code[lot_id] = f"H{lot_id:07d}"
                        rows["lot"].append(
                            (lot_id, item_id, self.lot_code[lot_id], self.plant.supplier_id, eid)
                        )
                loc = bins[eid % len(bins)]
                qty = (10 + eid % 7) * MICRO
                cost = 2_500_000
                code = f"H{cid:09d}"
                self.live[cid] = [loc, item_id, lot_id, qty, cost, code]
                self.order.append(cid)
                new_containers.add(cid)
                lot = f'{{"code":"{self.lot_code[lot_id]}"}}' if lot_id else "null"
                cmd = (
                    f'{{"occurred_at":null,"container":"{code}","container_kind":"box",'
                    f'"location":"{self.bin_code[loc]}","supplier":"SUP","reference":"PO-{eid}",'
                    f'"lines":[{{"item":"{item_code}","lot":{lot},"quantity":"{qty // MICRO}",'
                    f'"unit":null,"unit_cost":"2.5"}}]}}'
                )
                result = (
                    f'{{"event_id":{eid},"key":"{key}","kind":"receive","replayed":false,'
                    f'"containers":["{code}"],"lines":[],"balances":[],'
                    f'"detail":{{"container":"{code}","location":"{self.bin_code[loc]}"}}}}'
                )
                rows["event"].append(
                    (
                        eid,
                        key,
                        "receive",
                        ts,
                        ts,
                        site,
                        loc,
                        "bench",
                        "bench",
                        f"PO-{eid}",
                        cmd,
                        result,
                    )
                )
                rows["line"].append(
                    (
                        next_id("line"),
                        eid,
                        None,
                        "supplier:SUP",
                        item_id,
                        lot_id,
                        "available",
                        -qty,
                        cost,
                    )
                )
                rows["line"].append(
                    (next_id("line"), eid, cid, None, item_id, lot_id, "available", qty, cost)
                )
                rows["move"].append((next_id("move"), eid, cid, None, loc, None, "active"))
                rows["genealogy"].append((next_id("genealogy"), eid, lot_id, cid, item_id, qty))
                outbox(eid, "receive", key, ts, [(item_code, self.bin_code[loc])])
                updated_event[cid] = eid
            elif n == 4 and len(self.order) > STANDING_STOCK:
                # ship the oldest container
                cid = self.order.popleft()
                loc, item_id, lot_id, qty, cost, code = self.live.pop(cid)
                cmd = (
                    f'{{"occurred_at":null,"container":"{code}","customer":"CUS","reference":null}}'
                )
                result = (
                    f'{{"event_id":{eid},"key":"{key}","kind":"ship","replayed":false,'
                    f'"containers":["{code}"],"lines":[],"balances":[],'
                    f'"detail":{{"container":"{code}","customer":"CUS"}}}}'
                )
                rows["event"].append(
                    (
                        eid,
                        key,
                        "ship",
                        ts,
                        ts,
                        site,
                        loc,
                        "bench",
                        "bench",
                        None,
                        cmd,
                        result,
                    )
                )
                rows["line"].append(
                    (next_id("line"), eid, cid, None, item_id, lot_id, "available", -qty, cost)
                )
                rows["line"].append(
                    (
                        next_id("line"),
                        eid,
                        None,
                        "customer:CUS",
                        item_id,
                        lot_id,
                        "available",
                        qty,
                        cost,
                    )
                )
                rows["move"].append((next_id("move"), eid, cid, loc, loc, "active", "shipped"))
                outbox(eid, "ship", key, ts, [(self.item_code[item_id], self.bin_code[loc])])
                updated_event[cid] = eid
                if cid not in new_containers:
                    touched_old.add(cid)
                    shipped_old.append(cid)
            else:
                # move a live container (a recent one: put-away and re-slotting)
                cid = self.order[-1 - (eid * 7919) % min(len(self.order), 500)]
                state = self.live[cid]
                old = state[0]
                new = bins[(bins.index(old) + 1 + eid % 13) % len(bins)]
                state[0] = new
                cmd = (
                    f'{{"occurred_at":null,"container":"{state[5]}",'
                    f'"to_location":"{self.bin_code[new]}"}}'
                )
                result = (
                    f'{{"event_id":{eid},"key":"{key}","kind":"move","replayed":false,'
                    f'"containers":["{state[5]}"],"lines":[],"balances":[],'
                    f'"detail":{{"container":"{state[5]}","from":"{self.bin_code[old]}",'
                    f'"to":"{self.bin_code[new]}"}}}}'
                )
                rows["event"].append(
                    (
                        eid,
                        key,
                        "move",
                        ts,
                        ts,
                        site,
                        new,
                        "bench",
                        "bench",
                        None,
                        cmd,
                        result,
                    )
                )
                rows["move"].append((next_id("move"), eid, cid, old, new, "active", "active"))
                item = self.item_code[state[1]]
                outbox(
                    eid, "move", key, ts, [(item, self.bin_code[old]), (item, self.bin_code[new])]
                )
                updated_event[cid] = eid
                if cid not in new_containers:
                    touched_old.add(cid)

        last_loc: dict[int, int] = {}
        for row in rows["move"]:
            last_loc[row[2]] = row[4]
        created = {row[2]: row[1] for row in rows["move"] if row[3] is None}
        containers = []
        for cid in sorted(new_containers):
            st = self.live.get(cid)
            loc = st[0] if st else last_loc[cid]
            containers.append(
                (
                    cid,
                    f"H{cid:09d}",
                    "box",
                    "active" if st else "shipped",
                    loc,
                    site,
                    created[cid],
                    updated_event[cid],
                    self._ts(updated_event[cid]),
                )
            )
        contents = [
            (
                cid,
                self.live[cid][1],
                self.live[cid][2],
                "available",
                self.live[cid][3],
                self.live[cid][4],
            )
            for cid in sorted(new_containers)
            if cid in self.live
        ]
        updates = [
            (
                last_loc[cid],
                "active" if cid in self.live else "shipped",
                updated_event[cid],
                self._ts(updated_event[cid]),
                cid,
            )
            for cid in sorted(touched_old)
        ]
        self._write(rows, containers, contents, updates, shipped_old)

    def _write(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        containers: list[tuple[Any, ...]],
        contents: list[tuple[Any, ...]],
        updates: list[tuple[Any, ...]],
        shipped_old: list[int],
    ) -> None:
        order = [
            ("ledger_event", EVENT_COLS, rows["event"]),
            ("ledger_container", CONTAINER_COLS, containers),
            ("ledger_lot", LOT_COLS, rows["lot"]),
            ("ledger_event_line", LINE_COLS, rows["line"]),
            ("ledger_event_move", MOVE_COLS, rows["move"]),
            ("ledger_genealogy", GENEALOGY_COLS, rows["genealogy"]),
            ("ledger_outbox", OUTBOX_COLS, rows["outbox"]),
            ("ledger_content", CONTENT_COLS, contents),
        ]
        update_sql = (
            "UPDATE ledger_container SET location_id = {p}, status = {p}, "
            "updated_event_id = {p}, updated_at = {p} WHERE id = {p}"
        )
        delete_sql = "DELETE FROM ledger_content WHERE container_id = {p}"
        raw = self.db.engine.raw_connection()
        try:
            dbapi: Any = raw.driver_connection
            if self.db.is_sqlite:
                assert isinstance(dbapi, sqlite3.Connection)
                dbapi.execute("BEGIN IMMEDIATE")
                for table, cols, data in order:
                    marks = ", ".join("?" for _ in cols)
                    dbapi.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", data
                    )
                dbapi.executemany(update_sql.format(p="?"), updates)
                dbapi.executemany(delete_sql.format(p="?"), [(c,) for c in shipped_old])
                dbapi.execute("COMMIT")
            else:
                with dbapi.cursor() as cur:
                    for table, cols, data in order:
                        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                            for row in data:
                                copy.write_row(row)
                    cur.executemany(update_sql.format(p="%s"), updates)
                    cur.executemany(delete_sql.format(p="%s"), [(c,) for c in shipped_old])
                    for table in (
                        "ledger_event",
                        "ledger_container",
                        "ledger_lot",
                        "ledger_event_line",
                        "ledger_event_move",
                        "ledger_genealogy",
                        "ledger_outbox",
                    ):
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                dbapi.commit()
        finally:
            raw.close()

    def _rebuild_balances(self) -> None:
        """Rebuild the balance projection from contents at their containers' locations."""
        with self.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM ledger_balance"))
            conn.execute(
                text(
                    "INSERT INTO ledger_balance (site_id, location_id, item_id, lot_id, status, "
                    "quantity) SELECT c.site_id, c.location_id, ct.item_id, ct.lot_id, ct.status, "
                    "sum(ct.quantity) FROM ledger_content ct JOIN ledger_container c "
                    "ON c.id = ct.container_id GROUP BY c.site_id, c.location_id, ct.item_id, "
                    "ct.lot_id, ct.status"
                )
            )
        if not self.db.is_sqlite:
            with self.db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            with self.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")

    def probe_lot(self) -> tuple[str, str]:
        """An item and lot that are in stock now."""
        for cid in reversed(self.order):
            _loc, item_id, lot_id, *_ = self.live[cid]
            if lot_id:
                return self.item_code[item_id], self.lot_code[lot_id]
        raise AssertionError("no lot in stock")


# ---------------------------------------------------------------------------------------------
# Queries and verify


def time_inventory(
    db: Database, history: History, plant: Plant, repeats: int
) -> dict[str, dict[str, float]]:
    """Median and p95 of the inventory query by item, by location subtree and by lot, in ms."""
    item_code, lot_code = history.probe_lot()
    probes: dict[str, Callable[[Session], Any]] = {
        "by item": lambda s: queries.inventory(s, item=plant.items[0][1]),
        "by location subtree": lambda s: queries.inventory(s, location=plant.areas[1]),
        "by lot": lambda s: queries.inventory(s, item=item_code, lot=lot_code),
    }
    out: dict[str, dict[str, float]] = {}
    for name, probe in probes.items():
        rows = len(db.read(probe).rows)
        for _ in range(5):
            db.read(probe)
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            db.read(probe)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        out[name] = {
            "median_ms": statistics.median(samples),
            "p95_ms": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
            "rows": rows,
        }
    return out


def counts(db: Database) -> dict[str, int]:
    def work(s: Session) -> dict[str, int]:
        return {
            "events": s.scalar(select(func.count()).select_from(Event)) or 0,
            "balances": s.scalar(text("SELECT count(*) FROM ledger_balance")) or 0,
            "containers": s.scalar(text("SELECT count(*) FROM ledger_container")) or 0,
            "lines": s.scalar(text("SELECT count(*) FROM ledger_event_line")) or 0,
        }

    return db.read(work)


def store_size(db: Database) -> int:
    if db.is_sqlite:
        path = Path(str(db.engine.url.database))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)


# ---------------------------------------------------------------------------------------------
# One store, end to end


def bench_store(store: str, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    n = args.events
    sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    repeats = 50 if args.quick else 200
    clients = 1 if store == "sqlite" else PG_CLIENTS
    ctx = sqlite_store("FULL") if store == "sqlite" else postgres_store()
    with ctx as db:
        console.rule(f"[bold]{store}[/bold]")
        schema.upgrade(db)
        plant = seed(db)
        setting = "synchronous=FULL" if store == "sqlite" else "defaults (fsync on)"
        rates = service_rates(
            db, plant, store=store, setting=setting, clients=clients, n=n, cost_only=args.cost
        )
        figures["rates"].append(dataclasses.asdict(rates))
        if args.cost:
            return
        history = History(db, plant)
        figures["queries"][store] = []
        for size in sizes:
            have = counts(db)["events"]
            if size > have:
                history.extend(size - have, f"{store}: bulk history to {size:,} events")
            c = counts(db)
            timings = time_inventory(db, history, plant, repeats)
            figures["queries"][store].append(
                {
                    "events": c["events"],
                    "balance_rows": c["balances"],
                    "containers": c["containers"],
                    "store_bytes": store_size(db),
                    "inventory": timings,
                }
            )
            console.print(
                f"{c['events']:,} events, {c['balances']:,} balance rows: "
                + ", ".join(
                    f"{k} {v['median_ms']:.2f} ms (p95 {v['p95_ms']:.2f}, {v['rows']} rows)"
                    for k, v in timings.items()
                )
            )
        with console.status(f"{store}: verify on {counts(db)['events']:,} events..."):
            started = time.perf_counter()
            report = db.read(verify)
            elapsed = time.perf_counter() - started
        figures["verify"][store] = {
            "events": report.events,
            "lines": report.lines,
            "containers": report.containers,
            "balances": report.balances,
            "differences": len(report.differences),
            "seconds": elapsed,
        }
        colour = "green" if report.ok else "red"
        console.print(
            f"[{colour}]verify: {report.events:,} events with lines, {report.lines:,} lines, "
            f"{report.containers:,} containers, {report.balances:,} balances, "
            f"{len(report.differences)} differences in {elapsed:.1f} s[/{colour}]"
        )
        for diff in report.differences[:5]:
            console.print(diff)
    if store == "sqlite":
        with sqlite_store("NORMAL") as db:
            console.rule("[bold]sqlite, synchronous=NORMAL (informative)[/bold]")
            schema.upgrade(db)
            plant = seed(db)
            rates = service_rates(
                db, plant, store=store, setting="synchronous=NORMAL", clients=1, n=n
            )
            figures["rates"].append(dataclasses.asdict(rates))


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    try:
        disk = subprocess.run(
            ["df", "-hT", tempfile.gettempdir()], capture_output=True, text=True, check=True
        ).stdout.splitlines()[-1]
    except (OSError, subprocess.CalledProcessError):
        disk = ""
    return {
        "nproc": nproc,
        "cpu": cpu,
        "tmp_disk": " ".join(disk.split()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def print_report(figures: dict[str, Any]) -> None:
    rates = Table(title="Events per second, one event per transaction")
    for col in (
        "store",
        "setting",
        "clients",
        "raw insert+commit/s",
        "receives/s",
        "% of raw",
        "moves/s",
        "% of raw",
    ):
        rates.add_column(
            col, justify="right" if "/" in col or "%" in col or col == "clients" else "left"
        )
    for r in figures["rates"]:
        if not r["raw_per_s"]:  # --cost: no throughput measured
            continue
        rates.add_row(
            r["store"],
            r["setting"],
            str(r["clients"]),
            f"{r['raw_per_s']:,.0f}",
            f"{r['receives_per_s']:,.0f}",
            f"{100 * r['receives_per_s'] / r['raw_per_s']:.0f}%",
            f"{r['moves_per_s']:,.0f}",
            f"{100 * r['moves_per_s'] / r['raw_per_s']:.0f}%",
        )
    console.print(rates)
    cost = Table(title="Cost per event in process, one client (statements counted per cursor)")
    for col in ("store", "setting", "event", "statements", "+ transaction control", "CPU ms"):
        left = col in ("store", "setting", "event")
        cost.add_column(col, justify="left" if left else "right")
    for r in figures["rates"]:
        for kind in ("receive", "move"):
            c = r[f"{kind}_cost"]
            cost.add_row(
                r["store"],
                r["setting"],
                kind,
                f"{c['statements']:.1f}",
                f"{c['control']:.1f}",
                f"{c['cpu_ms']:.2f}",
            )
    console.print(cost)
    inv = Table(title="Inventory query, ms (median / p95), history written in bulk")
    for col in ("store", "events", "balance rows", "by item", "by location subtree", "by lot"):
        inv.add_column(col, justify="right" if col != "store" else "left")
    for store, points in figures["queries"].items():
        for p in points:
            t = p["inventory"]
            inv.add_row(
                store,
                f"{p['events']:,}",
                f"{p['balance_rows']:,}",
                *(
                    f"{t[k]['median_ms']:.2f} / {t[k]['p95_ms']:.2f}"
                    for k in ("by item", "by location subtree", "by lot")
                ),
            )
    console.print(inv)
    ver = Table(title="isom ledger verify")
    for col in ("store", "events", "lines", "containers", "differences", "seconds"):
        ver.add_column(col, justify="right" if col != "store" else "left")
    for store, v in figures["verify"].items():
        ver.add_row(
            store,
            f"{v['events']:,}",
            f"{v['lines']:,}",
            f"{v['containers']:,}",
            str(v["differences"]),
            f"{v['seconds']:.1f}",
        )
    console.print(ver)
    console.print(
        "events counted by verify are those with lines (moves have none); "
        "the history beyond the measured events was written in bulk (see the module docstring)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few events, 10k history only")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=None, help="events per timed phase")
    parser.add_argument(
        "--cost",
        action="store_true",
        help="only the statements and CPU per receive and move (one client), then stop",
    )
    parser.add_argument("--no-json", action="store_true", help="do not write bench/out/*.json")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 200 if args.quick else 2000
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    figures: dict[str, Any] = {
        "command": " ".join(["bench/ledger.py", *(argv if argv is not None else sys.argv[1:])]),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "rates": [],
        "queries": {},
        "verify": {},
    }
    if "postgresql" in stores:
        version = postgres_available()
        if version is None:
            stores.remove("postgresql")
        figures["machine"]["postgresql"] = version
    console.print(figures["machine"])
    started = time.perf_counter()
    for store in stores:
        bench_store(store, args, figures)
    figures["seconds"] = time.perf_counter() - started
    print_report(figures)
    console.print(f"total {figures['seconds']:.0f} s")
    if not args.no_json:
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"ledger-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(figures, indent=2, default=str))
        console.print(f"figures written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
