"""Inventory: filtered pages of what is where, on-hand history, and what a place holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import NotFound
from isom.ledger.models import (
    Balance,
    ContentStatus,
    Event,
    EventLine,
    Lot,
)
from isom.ledger.queries.common import _codes
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Unit


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
        .where(Balance.quantity != 0, sites.within(Location.site_id))
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
