"""Read models of the ledger: inventory, containers with history, genealogy and recall.

Inventory reads the `ledger_balance` projection through its indexes, so its time does not
grow with the length of the history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from isom.errors import NotFound
from isom.ledger import nesting
from isom.ledger.models import (
    Balance,
    Container,
    Content,
    ContentStatus,
    Event,
    EventKind,
    EventLine,
    EventMove,
    Genealogy,
    Lot,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Supplier, Unit

Direction = Literal["backward", "forward"]
# Aliases made once: making one is costly, and the same objects let statements be cached.
_MOVED, _PARENT = aliased(Container, name="moved"), aliased(Container, name="parent")
_FROM_PARENT = aliased(Container, name="from_parent")
_TO_PARENT = aliased(Container, name="to_parent")
_FROM_LOCATION = aliased(Location, name="from_location")
_TO_LOCATION = aliased(Location, name="to_location")


class InventoryRow(BaseModel):
    item: str
    item_name: str
    unit: str
    location: str
    lot: str | None
    expiry_date: dt.date | None
    status: ContentStatus
    quantity: Decimal


class InventoryPage(BaseModel):
    rows: list[InventoryRow]
    total_quantity_by_item: dict[str, Decimal]
    limit: int
    offset: int


def inventory(
    session: Session,
    *,
    item: str | None = None,
    location: str | None = None,
    lot: str | None = None,
    status: ContentStatus | None = None,
    limit: int = 500,
    offset: int = 0,
) -> InventoryPage:
    """Quantities per item, location, lot and status; a location includes everything below it."""
    query = (
        select(
            Balance.status,
            Balance.quantity,
            Item.code,
            Item.name,
            Unit.code,
            Location.code,
            Lot.code,
            Lot.expiry_date,
        )
        .join(Item, Item.id == Balance.item_id)
        .join(Unit, Unit.id == Item.base_unit_id)
        .join(Location, Location.id == Balance.location_id)
        .outerjoin(Lot, Lot.id == Balance.lot_id)
        .where(Balance.quantity != 0)
    )
    if item is not None:
        it = md.get_item(session, item)
        query = query.where(Balance.item_id == it.id)
        if lot is not None:
            found = session.scalar(select(Lot).where(Lot.item_id == it.id, Lot.code == lot))
            if found is None:
                raise NotFound(f"item {item} has no lot {lot!r}", field="lot")
            query = query.where(Balance.lot_id == found.id)
    elif lot is not None:
        query = query.where(Balance.lot_id.in_(select(Lot.id).where(Lot.code == lot)))
    if location is not None:
        loc = md.get_location(session, location)
        query = query.where(Location.path.startswith(loc.path, autoescape=True))
    if status is not None:
        query = query.where(Balance.status == status)
    rows = session.execute(
        query.order_by(Item.code, Location.code, Lot.code, Balance.status)
        .limit(limit)
        .offset(offset)
    ).all()
    # Rows come from our own projection, already typed: no need to validate them again.
    out = [
        InventoryRow.model_construct(
            item=icode,
            item_name=iname,
            unit=ucode,
            location=lcode,
            lot=lotcode,
            expiry_date=expiry,
            status=status_,
            quantity=quantity,
        )
        for status_, quantity, icode, iname, ucode, lcode, lotcode, expiry in rows
    ]
    totals: dict[str, Decimal] = {}
    for row in out:
        totals[row.item] = totals.get(row.item, Decimal(0)) + row.quantity
    return InventoryPage(rows=out, total_quantity_by_item=totals, limit=limit, offset=offset)


class ContentView(BaseModel):
    item: str
    item_name: str
    unit: str
    lot: str | None
    expiry_date: dt.date | None
    status: ContentStatus
    wip_step: str | None
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal


class LineView(BaseModel):
    container: str | None
    place: str | None
    item: str
    lot: str | None
    status: ContentStatus
    wip_step: str | None
    quantity: Decimal
    unit_cost: Decimal


class EventView(BaseModel):
    id: int
    key: str
    kind: EventKind
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    actor: str
    device: str | None
    location: str | None
    reason: str | None
    reason_code: str | None
    reference: str | None
    reverses_event_id: int | None
    reversed_by_event_id: int | None
    lines: list[LineView]
    moves: list[dict[str, Any]]


class ContainerView(BaseModel):
    code: str
    kind: str
    status: str
    location: str | None
    parent: str | None
    children: list[ContainerView]
    contents: list[ContentView]
    history: list[EventView]


def _pairs(rows: Any) -> dict[Any, Any]:
    """A two-column result as a dict from the first column to the second."""
    return {row[0]: row[1] for row in rows}


def _codes(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(
        (row[0], row[1])
        for row in session.execute(select(model.id, model.code).where(model.id.in_(ids)))
    )


def _contents(session: Session, container_id: int) -> list[ContentView]:
    rows = session.execute(
        select(Content, Item.code, Item.name, Unit.code, Lot.code, Lot.expiry_date)
        .join(Item, Item.id == Content.item_id)
        .join(Unit, Unit.id == Item.base_unit_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .where(Content.container_id == container_id)
        .order_by(Item.code, Lot.code)
    ).all()
    return [
        ContentView(
            item=icode,
            item_name=iname,
            unit=ucode,
            lot=lotcode,
            expiry_date=expiry,
            status=ct.status,
            wip_step=ct.wip_step,
            quantity=ct.quantity,
            unit_cost=ct.unit_cost,
            value=(ct.quantity * ct.unit_cost).quantize(Decimal("0.01")),
        )
        for ct, icode, iname, ucode, lotcode, expiry in rows
    ]


def _lines_by_event(session: Session, ids: list[int]) -> dict[int, list[LineView]]:
    """The lines of these events with their codes, in one query."""
    rows = session.execute(
        select(
            EventLine.event_id,
            Container.code,
            EventLine.place,
            Item.code,
            Lot.code,
            EventLine.status,
            EventLine.wip_step,
            EventLine.quantity,
            EventLine.unit_cost,
        )
        .join(Item, Item.id == EventLine.item_id)
        .outerjoin(Lot, Lot.id == EventLine.lot_id)
        .outerjoin(Container, Container.id == EventLine.container_id)
        .where(EventLine.event_id.in_(ids))
        .order_by(EventLine.id)
    ).all()
    by_event: dict[int, list[LineView]] = {}
    for event_id, container, place, item, lot, status, wip_step, quantity, unit_cost in rows:
        by_event.setdefault(event_id, []).append(
            LineView(
                container=container,
                place=place,
                item=item,
                lot=lot,
                status=status,
                wip_step=wip_step,
                quantity=quantity,
                unit_cost=unit_cost,
            )
        )
    return by_event


def _moves_by_event(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The container moves of these events with their codes, in one query."""
    moved, from_parent, to_parent = _MOVED, _FROM_PARENT, _TO_PARENT
    from_loc, to_loc = _FROM_LOCATION, _TO_LOCATION
    rows = session.execute(
        select(
            EventMove.event_id,
            moved.code,
            from_loc.code,
            to_loc.code,
            from_parent.code,
            to_parent.code,
            EventMove.to_status,
        )
        .outerjoin(moved, moved.id == EventMove.container_id)
        .outerjoin(from_loc, from_loc.id == EventMove.from_location_id)
        .outerjoin(to_loc, to_loc.id == EventMove.to_location_id)
        .outerjoin(from_parent, from_parent.id == EventMove.from_parent_id)
        .outerjoin(to_parent, to_parent.id == EventMove.to_parent_id)
        .where(EventMove.event_id.in_(ids))
        .order_by(EventMove.id)
    ).all()
    by_event: dict[int, list[dict[str, Any]]] = {}
    for event_id, container, from_location, to_location, from_par, to_par, to_status in rows:
        by_event.setdefault(event_id, []).append(
            {
                "container": container,
                "from_location": from_location,
                "to_location": to_location,
                "from_parent": from_par,
                "to_parent": to_par,
                "to_status": to_status.value if to_status else None,
            }
        )
    return by_event


def _event_views(session: Session, events: list[Event]) -> list[EventView]:
    """The events as applied, their lines and moves named by code: four queries for any number."""
    if not events:
        return []
    ids = [e.id for e in events]
    lines = _lines_by_event(session, ids)
    moves = _moves_by_event(session, ids)
    reversals = _pairs(
        session.execute(
            select(Event.reverses_event_id, Event.id).where(Event.reverses_event_id.in_(ids))
        )
    )
    locs = _codes(session, Location, {e.location_id for e in events if e.location_id})
    return [
        EventView(
            id=e.id,
            key=e.key,
            kind=e.kind,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            actor=e.actor,
            device=e.device,
            location=locs.get(e.location_id) if e.location_id else None,
            reason=e.reason,
            reason_code=e.reason_code,
            reference=e.reference,
            reverses_event_id=e.reverses_event_id,
            reversed_by_event_id=reversals.get(e.id),
            lines=lines.get(e.id, []),
            moves=moves.get(e.id, []),
        )
        for e in events
    ]


def event(session: Session, event_id: int) -> EventView:
    """One event as it was applied."""
    found = session.get(Event, event_id)
    if found is None:
        raise NotFound(f"no event {event_id}", field="event_id")
    return _event_views(session, [found])[0]


def _carrier_event_ids(session: Session, container_id: int) -> set[int]:
    """The moves of every container this one rode on (a pallet, a cart), made while it rode on
    it, at any depth: moving a parent writes a move row for the parent only."""
    found: set[int] = set()
    windows: list[tuple[int, int, int | None]] = [(container_id, 0, None)]
    seen: set[tuple[int, int, int | None]] = set()
    while windows:
        window = windows.pop()
        if window in seen:
            continue
        seen.add(window)
        cid, lo, hi = window
        moves = session.execute(
            select(EventMove.event_id, EventMove.to_parent_id)
            .where(EventMove.container_id == cid)
            .order_by(EventMove.event_id, EventMove.id)
        ).all()
        if cid != container_id:
            found.update(e for e, _ in moves if e > lo and (hi is None or e < hi))
        parent: int | None = None
        since = 0
        for event_id, to_parent in [*moves, (None, None)]:
            if event_id is not None and to_parent == parent:
                continue
            start, end = max(since, lo), event_id if hi is None else min(event_id or hi, hi)
            if parent is not None and (end is None or start < end):
                windows.append((parent, start, end))
            parent, since = to_parent, event_id or 0
    return found


def _container_tree(
    session: Session,
    cont: Container,
    location: str | None,
    parent: str | None,
    *,
    with_history: bool,
) -> ContainerView:
    children = session.execute(
        select(Container, Location.code)
        .outerjoin(Location, Location.id == Container.location_id)
        .where(Container.parent_id == cont.id)
        .order_by(Container.code)
    ).all()
    history: list[EventView] = []
    if with_history:
        event_ids = (
            select(EventLine.event_id)
            .where(EventLine.container_id == cont.id)
            .union(
                select(EventMove.event_id).where(
                    or_(EventMove.container_id == cont.id, EventMove.to_parent_id == cont.id)
                )
            )
        )
        carried = _carrier_event_ids(session, cont.id)
        events = session.scalars(
            select(Event)
            .where(or_(Event.id.in_(event_ids), Event.id.in_(carried)))
            .order_by(Event.id.desc())
            .limit(500)
        ).all()
        history = _event_views(session, list(events))
    return ContainerView(
        code=cont.code,
        kind=cont.kind,
        status=cont.status.value,
        location=location,
        parent=parent,
        children=[
            _container_tree(session, child, at, cont.code, with_history=False)
            for child, at in children
        ],
        contents=_contents(session, cont.id),
        history=history,
    )


def container(session: Session, code: str) -> ContainerView:
    """A container with contents, nested children (at every depth) and its history, newest first."""
    parent = _PARENT
    found = session.execute(
        select(Container, Location.code, parent.code)
        .outerjoin(Location, Location.id == Container.location_id)
        .outerjoin(parent, parent.id == Container.parent_id)
        .where(Container.code == code)
    ).first()
    if found is None:
        raise NotFound(
            f"no container with code {code!r}",
            field="code",
            expected="the code on a container's label",
        )
    cont, location, parent_code = found
    return _container_tree(session, cont, location, parent_code, with_history=True)


class LotNode(BaseModel):
    item: str
    lot: str | None
    depth: int
    quantity: Decimal
    event_id: int
    event_kind: str
    supplier: str | None = None
    supplier_lot: str | None = None
    step: str | None = None
    via_item: str | None = None
    via_lot: str | None = Field(
        default=None, description="The lot this one was reached from: the branch of the tree."
    )


class GenealogyView(BaseModel):
    item: str
    lot: str
    direction: Direction
    supplier: str | None
    expiry_date: dt.date | None
    nodes: list[LotNode]


def _find_lot(session: Session, item: str, lot: str) -> tuple[Item, Lot]:
    it = md.get_item(session, item)
    found = session.scalar(select(Lot).where(Lot.item_id == it.id, Lot.code == lot))
    if found is None:
        raise NotFound(f"item {item} has no lot {lot!r}", field="lot", expected="an existing lot")
    return it, found


def _lot_closure(
    session: Session, lot_id: int, direction: Direction
) -> list[tuple[int, int, int, Decimal, int | None]]:
    """(lot id, depth, event id, quantity, via lot) for every lot reached, breadth first."""
    seen = {lot_id}
    frontier = [lot_id]
    out: list[tuple[int, int, int, Decimal, int | None]] = []
    depth = 0
    while frontier and depth < 50:
        depth += 1
        if direction == "backward":
            edges = session.execute(
                select(
                    Genealogy.from_lot_id,
                    Genealogy.event_id,
                    Genealogy.quantity,
                    Genealogy.to_lot_id,
                ).where(
                    Genealogy.to_lot_id.in_(frontier),
                    Genealogy.from_lot_id.is_not(None),
                    Genealogy.from_lot_id != Genealogy.to_lot_id,
                    Genealogy.quantity > 0,
                )
            ).all()
        else:
            edges = session.execute(
                select(
                    Genealogy.to_lot_id,
                    Genealogy.event_id,
                    Genealogy.quantity,
                    Genealogy.from_lot_id,
                ).where(
                    Genealogy.from_lot_id.in_(frontier),
                    Genealogy.to_lot_id.is_not(None),
                    Genealogy.from_lot_id != Genealogy.to_lot_id,
                    Genealogy.quantity > 0,
                )
            ).all()
        nxt = []
        for other, event_id, qty, via in edges:
            if other is None or other in seen:
                continue
            if session.scalar(select(Event.id).where(Event.reverses_event_id == event_id)):
                continue  # the event that linked them was reversed
            seen.add(other)
            nxt.append(other)
            out.append((other, depth, event_id, qty, via))
        frontier = nxt
    return out


def genealogy(session: Session, item: str, lot: str, direction: Direction) -> GenealogyView:
    """The lots a lot was made from (backward) or went into (forward), at every depth."""
    it, root = _find_lot(session, item, lot)
    reached = _lot_closure(session, root.id, direction)
    wanted = {r[0] for r in reached} | {r[4] for r in reached if r[4] is not None}
    lots = {x.id: x for x in session.scalars(select(Lot).where(Lot.id.in_(wanted)))}
    items = _codes(session, Item, {x.item_id for x in lots.values()})
    suppliers = _codes(
        session,
        Supplier,
        {x.supplier_id for x in lots.values() if x.supplier_id}
        | ({root.supplier_id} if root.supplier_id else set()),
    )
    events = {
        e.id: e for e in session.scalars(select(Event).where(Event.id.in_([r[2] for r in reached])))
    }
    nodes = []
    for lot_id, depth, event_id, qty, via in reached:
        x = lots[lot_id]
        ev = events[event_id]
        parent = lots.get(via) if via is not None else None
        nodes.append(
            LotNode(
                item=items[x.item_id],
                lot=x.code,
                depth=depth,
                quantity=qty,
                event_id=event_id,
                event_kind=ev.kind.value,
                supplier=suppliers.get(x.supplier_id) if x.supplier_id else None,
                supplier_lot=x.supplier_lot,
                step=ev.reference if ev.kind == EventKind.produce else None,
                via_item=items[parent.item_id] if parent is not None else None,
                via_lot=parent.code if parent is not None else None,
            )
        )
    return GenealogyView(
        item=it.code,
        lot=root.code,
        direction=direction,
        supplier=suppliers.get(root.supplier_id) if root.supplier_id else None,
        expiry_date=root.expiry_date,
        nodes=nodes,
    )


class Shipment(BaseModel):
    event_id: int
    shipped_at: dt.datetime
    customer: str
    container: str
    item: str
    lot: str | None
    quantity: Decimal
    reference: str | None


class RecallView(BaseModel):
    item: str
    lot: str
    lots: list[dict[str, str | None]]
    containers: list[dict[str, Any]]
    jobs: list[str]
    steps: list[str]
    shipments: list[Shipment]
    customers: list[str]


def recall(session: Session, item: str, lot: str) -> RecallView:
    """Every container, job, shipment and customer the lot, or anything made from it, reached."""
    it, root = _find_lot(session, item, lot)
    lot_ids = [root.id] + [r[0] for r in _lot_closure(session, root.id, "forward")]
    lots = session.scalars(select(Lot).where(Lot.id.in_(lot_ids))).all()
    items = _codes(session, Item, {x.item_id for x in lots})
    held = session.execute(
        select(Container.code, Container.status, Location.code, func.sum(EventLine.quantity))
        .join(EventLine, EventLine.container_id == Container.id)
        .outerjoin(Location, Location.id == Container.location_id)
        .where(EventLine.lot_id.in_(lot_ids), EventLine.quantity > 0)
        .group_by(Container.code, Container.status, Location.code)
        .order_by(Container.code)
    ).all()
    now_in = _pairs(
        session.execute(
            select(Container.code, func.sum(Content.quantity))
            .join(Content, Content.container_id == Container.id)
            .where(Content.lot_id.in_(lot_ids))
            .group_by(Container.code)
        )
    )
    steps = sorted(
        {
            place.removeprefix("step:")
            for place in session.scalars(
                select(EventLine.place)
                .where(EventLine.lot_id.in_(lot_ids), EventLine.place.startswith("step:"))
                .distinct()
            )
            if place
        }
    )
    # A ship event's container lines say which container left; its customer line says to whom.
    shipped = session.execute(
        select(Event, EventLine, Container.code)
        .join(EventLine, EventLine.event_id == Event.id)
        .join(Container, Container.id == EventLine.container_id)
        .where(
            Event.kind == EventKind.ship,
            EventLine.lot_id.in_(lot_ids),
            EventLine.quantity < 0,
        )
        .order_by(Event.id, Container.code)
    ).all()
    event_ids = sorted({e.id for e, _, _ in shipped})
    customer_of = _pairs(
        session.execute(
            select(EventLine.event_id, EventLine.place)
            .where(EventLine.event_id.in_(event_ids), EventLine.place.startswith("customer:"))
            .distinct()
        )
    )
    reversed_ids = set(
        session.scalars(
            select(Event.reverses_event_id).where(Event.reverses_event_id.in_(event_ids))
        )
    )
    lot_code = {x.id: x.code for x in lots}
    lot_item = {x.id: items[x.item_id] for x in lots}
    shipments = [
        Shipment(
            event_id=e.id,
            shipped_at=e.occurred_at,
            customer=(customer_of.get(e.id) or "").removeprefix("customer:"),
            container=code,
            item=lot_item.get(ln.lot_id or 0, ""),
            lot=lot_code.get(ln.lot_id or 0),
            quantity=-ln.quantity,
            reference=e.reference,
        )
        for e, ln, code in shipped
        if e.id not in reversed_ids
    ]
    return RecallView(
        item=it.code,
        lot=root.code,
        lots=[{"item": items[x.item_id], "lot": x.code} for x in lots],
        containers=[
            {
                "container": code,
                "status": status.value,
                "location": loc,
                "received_quantity": qty,
                "quantity_now": now_in.get(code, Decimal(0)),
            }
            for code, status, loc, qty in held
        ],
        jobs=sorted({s.split("/")[0] for s in steps}),
        steps=steps,
        shipments=shipments,
        customers=sorted({s.customer for s in shipments}),
    )


def subtree_codes(session: Session, code: str) -> list[str]:
    """The codes of a container and everything nested in it."""
    cont = session.scalar(select(Container).where(Container.code == code))
    if cont is None:
        raise NotFound(f"no container with code {code!r}", field="code")
    ids = nesting.subtree_ids(session, cont.id)
    return list(session.scalars(select(Container.code).where(Container.id.in_(ids))))


class DayBalance(BaseModel):
    day: dt.date
    quantity: Decimal


def on_hand_history(
    session: Session, item: str, start: dt.datetime, end: dt.datetime
) -> list[DayBalance]:
    """An item's quantity in containers at the end of each day of the window, from the events.

    The opening is what the containers hold now (the balances) less every change since the
    window's start, in one statement (one snapshot): summing the whole history before the
    start instead grows with the years the ledger has kept.
    """
    it = md.get_item(session, item)
    in_containers = (EventLine.item_id == it.id, EventLine.container_id.is_not(None))
    held_now = (
        select(func.coalesce(func.sum(Balance.quantity), 0))
        .where(Balance.item_id == it.id)
        .scalar_subquery()
    )
    since_start = (
        select(func.coalesce(func.sum(EventLine.quantity), 0))
        .join(Event, Event.id == EventLine.event_id)
        .where(*in_containers, Event.occurred_at >= start)
        .scalar_subquery()
    )
    opening = session.scalar(select(held_now - since_start))
    moves = session.execute(
        select(Event.occurred_at, EventLine.quantity)
        .join(Event, Event.id == EventLine.event_id)
        .where(*in_containers, Event.occurred_at >= start, Event.occurred_at < end)
    ).all()
    per_day: dict[dt.date, Decimal] = {}
    for at, qty in moves:
        per_day[at.date()] = per_day.get(at.date(), Decimal(0)) + qty
    balance = Decimal(opening or 0)
    out = []
    day = start.date()
    while day <= end.date():
        balance += per_day.get(day, Decimal(0))
        out.append(DayBalance(day=day, quantity=balance))
        day += dt.timedelta(days=1)
    return out


def place_quantities(session: Session, place: str) -> dict[int, Decimal]:
    """What a virtual place (a step's `step:<wo>/<seq>`) holds now, per item id."""
    rows = session.execute(
        select(EventLine.item_id, func.sum(EventLine.quantity))
        .where(EventLine.place == place)
        .group_by(EventLine.item_id)
    ).all()
    return {int(item_id): Decimal(q) for item_id, q in rows}


class PlaceLot(BaseModel):
    """One lot an item has in a virtual place, and the average cost it came in at."""

    item_id: int
    lot: str | None
    quantity: Decimal
    unit_cost_in: Decimal


def place_lots(session: Session, place: str) -> list[PlaceLot]:
    """What a place holds per item and lot (only what it holds more than nothing of), oldest
    lot first, with the quantity-weighted cost of what came in."""
    held: dict[tuple[int, int | None], list[Decimal]] = {}
    for item_id, lot_id, q, c in session.execute(
        select(EventLine.item_id, EventLine.lot_id, EventLine.quantity, EventLine.unit_cost)
        .where(EventLine.place == place)
        .order_by(EventLine.id)
    ):
        net, qin, vin = held.setdefault((item_id, lot_id), [Decimal(0)] * 3)
        came_in: Decimal = q if q > 0 else Decimal(0)
        held[(item_id, lot_id)] = [net + q, qin + came_in, vin + came_in * c]
    lots = _codes(session, Lot, {lot for _, lot in held if lot is not None})
    return [
        PlaceLot(
            item_id=item_id,
            lot=lots.get(lot_id) if lot_id else None,
            quantity=net,
            unit_cost_in=(vin / qin).quantize(Decimal("0.000001")) if qin else Decimal(0),
        )
        for (item_id, lot_id), (net, qin, vin) in held.items()
        if net > 0
    ]
