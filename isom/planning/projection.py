"""Projected inventory per item: time-phased balance, pegging of supply to demand, shortages.

The balance starts at the available quantity on hand today; supplies (open purchase lines,
open jobs' output) add at their dates and demands (open customer lines, open jobs' step
consumption) subtract at theirs, supplies first on a day. Anything already late counts today.
Pegging serves demand by priority (rush, normal, low), then due date, from the earliest supply.

The stored projection is kept fresh incrementally: `refresh_dirty` reads the ledger, production
and order event logs after its cursors, marks the items those events touched dirty, and
recomputes only those; `refresh_all` rebuilds every item.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from isom.ledger import queries as ledger_queries
from isom.masterdata.models import Item, Route, RouteStep, StepInput
from isom.orders import queries as orders_queries
from isom.planning import sources
from isom.planning.models import DirtyItem, ItemProjection, PlanCursor
from isom.planning.sources import Demand, Supply
from isom.production import rows as production_rows
from isom.types import utcnow

ZERO = Decimal(0)
PROJECTION_TABLE = cast(Table, ItemProjection.__table__)
DIRTY_TABLE = cast(Table, DirtyItem.__table__)
#: An event id skipped by the cursor is taken as rolled back once a later one is this old.
GAP_GRACE = dt.timedelta(seconds=30)


@dataclass(slots=True)
class Peg:
    """Which supply serves which demand, how much, and whether it arrives after the due date."""

    demand: str
    demand_date: dt.date
    quantity: Decimal
    supply: str | None
    supply_date: dt.date | None
    late: bool


@dataclass(slots=True)
class Projection:
    """One item's projection: the dated movements with the running balance, and its pegging."""

    item_id: int
    today: dt.date
    on_hand: Decimal
    entries: list[dict[str, Any]] = field(default_factory=list)
    pegging: list[Peg] = field(default_factory=list)
    first_shortage_date: dt.date | None = None
    shortage_quantity: Decimal = ZERO

    @property
    def end_quantity(self) -> Decimal:
        return Decimal(self.entries[-1]["balance"]) if self.entries else self.on_hand

    def balance_on(self, day: dt.date) -> Decimal:
        """The projected quantity at the end of `day`."""
        balance = self.on_hand
        for e in self.entries:
            if dt.date.fromisoformat(e["date"]) > day:
                break
            balance = Decimal(e["balance"])
        return balance


def project(
    item_id: int,
    on_hand: Decimal,
    supplies: list[Supply],
    demands: list[Demand],
    today: dt.date,
) -> Projection:
    """Time-phase one item's supply and demand from `today` and peg the one to the other."""
    proj = Projection(item_id=item_id, today=today, on_hand=on_hand)
    moves: list[tuple[dt.date, int, str, str, Decimal]] = [
        (max(s.date, today), 0, s.kind, s.ref, s.quantity) for s in supplies
    ] + [(max(d.date, today), 1, d.kind, d.ref, -d.quantity) for d in demands]
    moves.sort(key=lambda m: (m[0], m[1], m[3]))
    balance = on_hand
    proj.entries.append(
        {
            "date": today.isoformat(),
            "kind": "on_hand",
            "ref": "on hand",
            "quantity": str(on_hand),
            "balance": str(on_hand),
        }
    )
    for day, _, kind, ref, qty in moves:
        balance += qty
        proj.entries.append(
            {
                "date": day.isoformat(),
                "kind": kind,
                "ref": ref,
                "quantity": str(qty),
                "balance": str(balance),
            }
        )
        if balance < 0 and proj.first_shortage_date is None:
            proj.first_shortage_date = day
    proj.pegging = peg(on_hand, supplies, demands, today)
    unserved = sum((p.quantity for p in proj.pegging if p.supply is None), ZERO)
    lowest = min((Decimal(e["balance"]) for e in proj.entries), default=ZERO)
    # A shortage is wherever the balance goes negative, also when late supply serves it.
    proj.shortage_quantity = max(unserved, -lowest)
    return proj


def peg(
    on_hand: Decimal, supplies: list[Supply], demands: list[Demand], today: dt.date
) -> list[Peg]:
    """Serve each demand its reserved stock first, then by priority and due date from the
    earliest supply left (stock on hand, then supplies by date)."""
    pegs: list[Peg] = []
    free = on_hand
    for d in demands:
        held = min(d.reserved, max(free, ZERO))
        if held > 0:
            pegs.append(Peg(d.ref, d.date, held, "reserved stock", today, False))
            free -= held
    pool: list[list[Any]] = []
    if free > 0:
        pool.append([today, "on hand", free])
    pool += [
        [max(s.date, today), s.ref, s.quantity]
        for s in sorted(supplies, key=lambda s: (s.date, s.ref))
    ]
    at = 0
    served = {p.demand: p.quantity for p in pegs}
    for d in sorted(demands, key=lambda d: (d.rank, d.date, d.ref)):
        need = d.quantity - served.get(d.ref, ZERO)
        while need > 0 and at < len(pool):
            day, ref, left = pool[at]
            take = min(need, left)
            pegs.append(Peg(d.ref, d.date, take, ref, day, day > max(d.date, today)))
            need -= take
            pool[at][2] = left - take
            if pool[at][2] == 0:
                at += 1
        if need > 0:
            pegs.append(Peg(d.ref, d.date, need, None, None, True))
    return pegs


def compute(session: Session, items: set[int] | None, today: dt.date) -> dict[int, Projection]:
    """Projections of `items` (every item with stock, supply or demand when None)."""
    stock = sources.on_hand(session, items)
    supplies: dict[int, list[Supply]] = defaultdict(list)
    demands: dict[int, list[Demand]] = defaultdict(list)
    for s in sources.purchase_supply(session, items) + sources.production_supply(session, items):
        supplies[s.item_id].append(s)
    for d in sources.customer_demand(session, items) + sources.step_demand(session, items):
        demands[d.item_id].append(d)
    wanted = set(stock) | set(supplies) | set(demands) if items is None else items
    return {
        i: project(i, stock.get(i, ZERO), supplies.get(i, []), demands.get(i, []), today)
        for i in wanted
    }


def item_projection(session: Session, item_id: int, today: dt.date | None = None) -> Projection:
    """One item's projection, computed now from the current documents and stock."""
    day = today or utcnow().date()
    return compute(session, {item_id}, day)[item_id]


def _rows(projections: dict[int, Projection]) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "item_id": p.item_id,
            "on_hand": p.on_hand,
            "end_quantity": p.end_quantity,
            "first_shortage_date": p.first_shortage_date,
            "shortage_quantity": p.shortage_quantity,
            "entries": p.entries,
            "pegging": [
                {
                    "demand": g.demand,
                    "demand_date": g.demand_date.isoformat(),
                    "quantity": str(g.quantity),
                    "supply": g.supply,
                    "supply_date": g.supply_date.isoformat() if g.supply_date else None,
                    "late": g.late,
                }
                for g in p.pegging
            ],
            "computed_at": now,
        }
        for p in projections.values()
    ]


def store(
    session: Session, projections: dict[int, Projection], *, everything: bool = False
) -> None:
    """Replace the stored projections of these items (of every item when `everything`)."""
    table = PROJECTION_TABLE
    if everything:
        session.execute(delete(table))
    elif projections:
        session.execute(delete(table).where(table.c.item_id.in_(list(projections))))
    rows = _rows(projections)
    if rows:
        session.execute(insert(table), rows)


def refresh_all(session: Session, today: dt.date | None = None) -> int:
    """Rebuild every item's stored projection; the cursors move to the ends of the logs."""
    _cursors(session)
    touched_since_cursors(session)  # advance the cursors: the full run covers those events
    session.execute(delete(DirtyItem))
    projections = compute(session, None, today or utcnow().date())
    store(session, projections, everything=True)
    return len(projections)


def refresh_dirty(session: Session, today: dt.date | None = None) -> set[int]:
    """Mark the items new events touched, and recompute only the dirty items."""
    mark(session, touched_since_cursors(session))
    dirty = set(session.scalars(select(DirtyItem.item_id)))
    if dirty:
        store(session, compute(session, dirty, today or utcnow().date()))
        session.execute(delete(DirtyItem).where(DirtyItem.item_id.in_(dirty)))
    return dirty


def mark(session: Session, items: set[int]) -> None:
    """Mark items dirty in the caller's transaction (any service may call this beside its write)."""
    if not items:
        return
    known = set(session.scalars(select(DirtyItem.item_id).where(DirtyItem.item_id.in_(items))))
    now = utcnow()
    fresh = [{"item_id": i, "marked_at": now} for i in sorted(items - known)]
    if fresh:
        session.execute(insert(DIRTY_TABLE), fresh)


def _cursors(session: Session) -> dict[str, PlanCursor]:
    """The three cursors, locked so two refreshes never read the same events at once."""
    found = {c.name: c for c in session.scalars(select(PlanCursor).with_for_update())}
    for name in ("ledger", "production", "orders"):
        if name not in found:
            found[name] = PlanCursor(name=name, position=0)
            session.add(found[name])
    session.flush()
    return found


def _advance(cursor: PlanCursor, rows: list[tuple[int, dt.datetime]]) -> None:
    """Move past contiguous ids; jump a gap only once a later event is older than the grace.

    A gap is a transaction that took its id but has not committed yet (or rolled back); the
    events after the cursor are read again next time, and marking an item twice is harmless.
    """
    old = utcnow() - GAP_GRACE
    for event_id, at in rows:
        if event_id == cursor.position + 1 or at < old:
            cursor.position = event_id
        else:
            break


def touched_since_cursors(session: Session) -> set[int]:
    """The items that events after the cursors touched; the cursors move past them."""
    cur = _cursors(session)
    items: set[int] = set()
    ledger_rows = ledger_queries.events_after(session, cur["ledger"].position)
    if ledger_rows:
        items |= ledger_queries.items_touched_after(session, cur["ledger"].position)
        _advance(cur["ledger"], ledger_rows)
    prod_rows = production_rows.events_after(session, cur["production"].position)
    if prod_rows:
        jobs = {r.work_order_id for r in prod_rows if r.work_order_id is not None}
        items |= _job_items(session, jobs)
        _advance(cur["production"], [(r.id, r.recorded_at) for r in prod_rows])
    order_rows = orders_queries.events_after(session, cur["orders"].position)
    if order_rows:
        items |= _order_items(session, [(r.command, r.result) for r in order_rows])
        _advance(cur["orders"], [(r.id, r.recorded_at) for r in order_rows])
    return items


def _order_items(session: Session, events: list[tuple[dict[str, Any], dict[str, Any]]]) -> set[int]:
    """The items of the orders that order events name (customer, purchase and ship orders)."""
    numbers: set[str] = set()
    for command, result in events:
        for value in (result.get("number"), command.get("order"), command.get("ship_order")):
            if isinstance(value, str) and value:
                numbers.add(value)
    return orders_queries.items_of_orders(session, numbers)


def _job_items(session: Session, jobs: set[int]) -> set[int]:
    """The items a job and its child jobs make and consume."""
    made, items = production_rows.family_items(session, jobs)
    items |= set(
        session.scalars(
            select(StepInput.item_id)
            .join(RouteStep, RouteStep.id == StepInput.step_id)
            .join(Route, Route.id == RouteStep.route_id)
            .where(Route.item_id.in_(made), Route.active)
        )
    )
    return items


def stored(session: Session, item_id: int) -> ItemProjection | None:
    """The stored projection of an item, if it was computed."""
    return session.get(ItemProjection, item_id)


def shortages(session: Session) -> list[tuple[str, ItemProjection]]:
    """Items whose stored projection goes short, earliest shortage first."""
    rows = session.execute(
        select(Item.code, ItemProjection)
        .join(Item, Item.id == ItemProjection.item_id)
        .where(ItemProjection.first_shortage_date.is_not(None))
        .order_by(ItemProjection.first_shortage_date, Item.code)
    ).all()
    return [(code, p) for code, p in rows]


def stored_pegging(session: Session) -> list[tuple[int, list[dict[str, Any]]]]:
    """Every stored projection's pegging (who is served by what, and when), per item."""
    return [
        (item_id, list(pegging))
        for item_id, pegging in session.execute(
            select(ItemProjection.item_id, ItemProjection.pegging)
        )
    ]
