"""Inventory: filtered pages of what is where, on-hand history, and what a place holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import NotFound
from isom.ledger.models import (
    Balance,
    Container,
    ContainerStatus,
    Content,
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


_INVENTORY = (
    select(
        Balance.status,
        Balance.quantity,
        Item.code,
        Item.name,
        Unit.code,
        Location.code,
        Lot.code,
        Lot.expiry_date,
        Item.active,
    )
    .join(Item, Item.id == Balance.item_id)
    .join(Unit, Unit.id == Item.base_unit_id)
    .join(Location, Location.id == Balance.location_id)
    .outerjoin(Lot, Lot.id == Balance.lot_id)
    .where(Balance.quantity != 0)
)
_FILTERS: dict[str, Any] = {
    "item": Item.code == bindparam("item"),
    "item_lot": Lot.code == bindparam("lot"),
    "lot": Balance.lot_id.in_(select(Lot.id).where(Lot.code == bindparam("lot"))),
    "status": Balance.status == bindparam("status"),
}
_PAGED: dict[tuple[str, ...], Any] = {}  # built once per combination of filters


def _paged(filters: tuple[str, ...], location_path: str | None) -> Any:
    query = _PAGED.get(filters) if location_path is None else None
    if query is None:
        query = _INVENTORY.where(*(_FILTERS[f] for f in filters))
        if location_path is not None:  # a prefix to escape: no statement of its own to cache
            query = query.where(Location.path.startswith(location_path, autoescape=True))
        query = (
            query.order_by(Item.code, Location.code, Lot.code, Balance.status)
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        if location_path is None:
            _PAGED[filters] = query
    return query


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
    """Quantities per item, location, lot and status; a location includes everything below it.

    The item and lot filter by code in the one query; only an empty or inactive answer looks
    them up, to say what was wrong."""
    path = md.get_location(session, location).path if location is not None else None
    filters = tuple(
        name
        for name, given in (
            ("item", item),
            ("item_lot" if item is not None else "lot", lot),
            ("status", status),
        )
        if given is not None
    )
    params = {"item": item, "lot": lot, "status": status, "limit": limit, "offset": offset}
    query = _paged(filters, path)
    if sites.held() is not None:  # a caller held to sites sees only their balances
        query = query.where(sites.within(Location.site_id))
    rows = session.execute(query, params).all()
    if item is not None and (not rows or not rows[0][-1]):
        _check_item_lot(session, item, lot)
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
        for status_, quantity, icode, iname, ucode, lcode, lotcode, expiry, _active in rows
    ]
    totals: dict[str, Decimal] = {}
    for row in out:
        totals[row.item] = totals.get(row.item, Decimal(0)) + row.quantity
    return InventoryPage(rows=out, total_quantity_by_item=totals, limit=limit, offset=offset)


def _check_item_lot(session: Session, item: str, lot: str | None) -> None:
    """Refuse an unknown or inactive item, or a lot the item does not have."""
    it = md.get_item(session, item)
    if lot is not None:
        found = session.scalar(select(Lot.id).where(Lot.item_id == it.id, Lot.code == lot))
        if found is None:
            raise NotFound(f"item {item} has no lot {lot!r}", field="lot")


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


def place_value(session: Session, place: str) -> Decimal:
    """The value a virtual place holds now: the sum of quantity x unit cost of its lines."""
    rows = session.execute(
        select(EventLine.quantity, EventLine.unit_cost).where(EventLine.place == place)
    ).all()
    return sum((q * c for q, c in rows), Decimal(0))


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


def available_by_item(session: Session, items: set[int] | None = None) -> dict[int, Decimal]:
    """Available (not held, not WIP) quantity per item over every location (`None`: all items)."""
    query = (
        select(Balance.item_id, func.sum(Balance.quantity))
        .where(Balance.status == ContentStatus.available)
        .group_by(Balance.item_id)
    )
    if items is not None:
        query = query.where(Balance.item_id.in_(items))
    return {item_id: Decimal(total) for item_id, total in session.execute(query)}


def available_lines_of(session: Session, items: Iterable[int]) -> list[tuple[int, Decimal]]:
    """(item id, quantity) of every available content line of these items: one length of
    material each, for what a reel yields when cut."""
    rows = session.execute(
        select(Content.item_id, Content.quantity).where(
            Content.item_id.in_(list(items)), Content.status == ContentStatus.available
        )
    )
    return [(item_id, Decimal(quantity)) for item_id, quantity in rows]


def consumed_at_steps(
    session: Session, places: set[str] | None = None, items: set[int] | None = None
) -> dict[tuple[str, int], Decimal]:
    """What steps' virtual places took in, per (place, item): of these places and items, or of
    every step place (`None`)."""
    query = (
        select(EventLine.place, EventLine.item_id, func.sum(EventLine.quantity))
        .where(EventLine.quantity > 0)
        .group_by(EventLine.place, EventLine.item_id)
    )
    if places is None:
        query = query.where(EventLine.place.like("step:%"))
    else:
        query = query.where(EventLine.place.in_(places))
    if items is not None:
        query = query.where(EventLine.item_id.in_(items))
    return {(str(place), item_id): Decimal(q) for place, item_id, q in session.execute(query)}


class ExpiringLot(NamedTuple):
    """Available stock of a lot at a site, and the day the lot expires."""

    item_id: int
    lot: str
    expiry: dt.date | None
    quantity: Decimal
    site_id: int | None


def expiring_lots(session: Session, until: dt.date) -> list[ExpiringLot]:
    """Lots with available stock that expire on or before `until` (expired ones too), by site."""
    rows = session.execute(
        select(Lot.item_id, Lot.code, Lot.expiry_date, func.sum(Balance.quantity), Balance.site_id)
        .join(Balance, Balance.lot_id == Lot.id)
        .where(
            Balance.status == ContentStatus.available,
            Balance.quantity > 0,
            Lot.expiry_date.is_not(None),
            Lot.expiry_date <= until,
        )
        .group_by(Lot.item_id, Lot.code, Lot.expiry_date, Balance.site_id)
    )
    return [ExpiringLot(*row) for row in rows]


class IdleContainer(NamedTuple):
    """An active container holding stock, and when (and by which event) it last changed."""

    code: str
    updated_at: dt.datetime
    updated_event_id: int | None
    site_id: int | None


def idle_containers(session: Session, before: dt.datetime) -> list[IdleContainer]:
    """Active containers holding stock that have not changed since `before`, by code."""
    rows = session.execute(
        select(Container.code, Container.updated_at, Container.updated_event_id, Container.site_id)
        .where(
            Container.status == ContainerStatus.active,
            Container.updated_at < before,
            select(Content.id)
            .where(Content.container_id == Container.id, Content.quantity > 0)
            .exists(),
        )
        .order_by(Container.code)
    )
    return [IdleContainer(*row) for row in rows]
