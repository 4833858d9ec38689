"""Lot genealogy (backward and forward) and the recall view of everything a lot reached."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.errors import NotFound
from isom.ledger.models import (
    Container,
    Content,
    Event,
    EventKind,
    EventLine,
    Genealogy,
    Lot,
)
from isom.ledger.queries.common import _codes, _pairs
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Supplier

Direction = Literal["backward", "forward"]


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
    # Backward walks from a lot to what it was made from; forward, to what it went into.
    near, far = (Genealogy.to_lot_id, Genealogy.from_lot_id)
    if direction != "backward":
        near, far = far, near
    depth = 0
    while frontier and depth < 50:
        depth += 1
        edges = session.execute(
            select(far, Genealogy.event_id, Genealogy.quantity, near).where(
                near.in_(frontier),
                far.is_not(None),
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
    steps = _steps_reached(session, lot_ids)
    shipments = _shipments(session, lot_ids, lots, items)
    return RecallView(
        item=it.code,
        lot=root.code,
        lots=[{"item": items[x.item_id], "lot": x.code} for x in lots],
        containers=_containers_reached(session, lot_ids),
        jobs=sorted({s.split("/")[0] for s in steps}),
        steps=steps,
        shipments=shipments,
        customers=sorted({s.customer for s in shipments}),
    )


def _containers_reached(session: Session, lot_ids: list[int]) -> list[dict[str, Any]]:
    """Each container the lots were put in, with what it holds of them now."""
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
    return [
        {
            "container": code,
            "status": status.value,
            "location": loc,
            "received_quantity": qty,
            "quantity_now": now_in.get(code, Decimal(0)),
        }
        for code, status, loc, qty in held
    ]


def _steps_reached(session: Session, lot_ids: list[int]) -> list[str]:
    """The job steps the lots went into (`job/step`)."""
    return sorted(
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


def _shipments(
    session: Session, lot_ids: list[int], lots: Sequence[Lot], items: dict[int, str]
) -> list[Shipment]:
    """What of the lots left in shipments that were not reversed, and to whom."""
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
    return [
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
