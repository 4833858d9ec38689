"""The ledger's events as plain rows, for readers of the log in other domains (the EPCIS export
and capture, the ERP reconciliation, the production feed): frozen copies of the columns, never
the ORM rows, so nothing outside the ledger can query or change its tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Subquery, select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.ledger.enums import ContainerStatus, EventKind
from isom.ledger.models import Container, Event, EventLine, EventMove, Lot
from isom.masterdata.models import Item, Location, Unit


@dataclass(frozen=True, slots=True)
class EventRow:
    """A ledger event: what happened, when, where, by whom, and its command and result."""

    id: int
    key: str
    kind: EventKind
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    site_id: int | None
    location_id: int | None
    actor: str
    device: str | None
    reason: str | None
    reason_code: str | None
    reference: str | None
    reverses_event_id: int | None
    command: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MoveRow:
    """Where a container went in an event: location, parent and status before and after."""

    event_id: int
    container_id: int
    from_location_id: int | None
    to_location_id: int | None
    from_parent_id: int | None
    to_parent_id: int | None
    from_status: ContainerStatus | None
    to_status: ContainerStatus | None


def _columns(row: type[Any], model: type[Any]) -> list[Any]:
    """The columns of `model` that make a `row`, in the row's field order."""
    return [getattr(model, f.name) for f in fields(row)]


#: Events and moves read by Core, straight into the frozen rows: a page of 1,000 events costs
#: no ORM objects, identity map or attribute copies.
_EVENTS = select(*_columns(EventRow, Event))
_MOVES = select(*_columns(MoveRow, EventMove))


def _event_rows(session: Session, query: Any) -> list[EventRow]:
    return [EventRow(*row) for row in session.connection().execute(query)]


def event_row(session: Session, event_id: int) -> EventRow | None:
    """The ledger event with this id, if there is one."""
    found = _event_rows(session, _EVENTS.where(Event.id == event_id))
    return found[0] if found else None


def event_rows(session: Session, ids: Iterable[int]) -> dict[int, EventRow]:
    """The ledger events with these ids, by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    return {e.id: e for e in _event_rows(session, _EVENTS.where(Event.id.in_(wanted)))}


def event_page(
    session: Session,
    after: int,
    *,
    limit: int,
    occurred_from: dt.datetime | None = None,
    occurred_before: dt.datetime | None = None,
    kinds: Iterable[EventKind] | None = None,
) -> list[EventRow]:
    """Up to `limit` ledger events after the id `after`, in ledger order, filtered by when they
    occurred and their kinds, of the sites the caller holds."""
    query = _EVENTS.where(Event.id > after, sites.within(Event.site_id))
    if occurred_from is not None:
        query = query.where(Event.occurred_at >= occurred_from)
    if occurred_before is not None:
        query = query.where(Event.occurred_at < occurred_before)
    if kinds is not None:
        query = query.where(Event.kind.in_(list(kinds)))
    return _event_rows(session, query.order_by(Event.id).limit(limit))


def event_sites() -> Subquery:
    """Each ledger event's site (`site_id` and its code, `site`), to join on `event_id`: how
    the feed says, and filters by, where a message's event happened."""
    return (
        select(
            Event.id.label("event_id"),
            Event.site_id.label("site_id"),
            Location.code.label("site"),
        )
        .outerjoin(Location, Location.id == Event.site_id)
        .subquery("event_sites")
    )


def moves_of(session: Session, event_ids: Iterable[int]) -> dict[int, list[MoveRow]]:
    """The container moves of these events, by event id, in the order they were recorded."""
    wanted = list(event_ids)
    out: dict[int, list[MoveRow]] = {}
    if not wanted:
        return out
    query = _MOVES.where(EventMove.event_id.in_(wanted)).order_by(EventMove.id)
    for row in session.connection().execute(query):
        out.setdefault(row[0], []).append(MoveRow(*row))
    return out


def container_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Container codes by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Container.id, Container.code).where(Container.id.in_(wanted)))
    return {cid: code for cid, code in rows}


class ItemEventLine(NamedTuple):
    """A line of a ledger event that moved an item: the event and the container line."""

    event_id: int
    kind: EventKind
    key: str
    occurred_at: dt.datetime
    reference: str | None
    container: str
    quantity: Decimal


def latest_item_lines(
    session: Session, item_code: str, lot: str | None, container_ids: list[int], *, limit: int
) -> list[ItemEventLine]:
    """The latest event lines that moved an item (and lot) in these containers (or anywhere),
    newest first."""
    query = (
        select(
            Event.id,
            Event.kind,
            Event.key,
            Event.occurred_at,
            Event.reference,
            Container.code,
            EventLine.quantity,
        )
        .join(EventLine, EventLine.event_id == Event.id)
        .join(Item, Item.id == EventLine.item_id)
        .join(Container, Container.id == EventLine.container_id)
        .where(Item.code == item_code)
        .order_by(Event.id.desc())
        .limit(limit)
    )
    if lot is not None:
        query = query.join(Lot, Lot.id == EventLine.lot_id).where(Lot.code == lot)
    if container_ids:
        query = query.where(EventLine.container_id.in_(container_ids))
    return [ItemEventLine(*row) for row in session.execute(query)]


class PlaceEventLine(NamedTuple):
    """A container line of an event booked to a virtual place, with the kind it counts as (a
    reversal counts as the kind it reverses)."""

    kind: EventKind
    item_id: int
    item: str
    lot: str | None
    container: str
    quantity: Decimal
    unit_cost: Decimal
    unit: str


def place_event_lines(session: Session, place: str) -> list[PlaceEventLine]:
    """The container lines of every event that booked to a virtual place, in ledger order."""
    event_ids = select(EventLine.event_id).where(EventLine.place == place)
    events = {
        e.id: e
        for e in session.scalars(select(Event).where(Event.id.in_(event_ids)).order_by(Event.id))
    }
    kind_of: dict[int, EventKind] = {}
    for e in events.values():
        if e.kind is EventKind.reverse and e.reverses_event_id in events:
            kind_of[e.id] = events[e.reverses_event_id].kind
        else:
            kind_of[e.id] = e.kind
    rows = session.execute(
        select(
            EventLine.event_id,
            Item.id,
            Item.code,
            Lot.code,
            Container.code,
            EventLine.quantity,
            EventLine.unit_cost,
            Unit.code,
        )
        .join(Item, Item.id == EventLine.item_id)
        .join(Unit, Unit.id == Item.base_unit_id)
        .join(Container, Container.id == EventLine.container_id)
        .outerjoin(Lot, Lot.id == EventLine.lot_id)
        .where(EventLine.event_id.in_(list(events)))
        .order_by(EventLine.id)
    )
    return [
        PlaceEventLine(kind_of[ev_id], item_id, item, lot, container, qty, cost, unit)
        for ev_id, item_id, item, lot, container, qty, cost, unit in rows
    ]
