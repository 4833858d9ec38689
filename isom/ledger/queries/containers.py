"""A container as people see it: contents, nested children, and its event history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from isom.auth import sites
from isom.errors import NotFound
from isom.ledger import nesting
from isom.ledger.models import (
    Container,
    Content,
    ContentStatus,
    Event,
    EventKind,
    EventLine,
    EventMove,
    Lot,
)
from isom.ledger.queries.common import _codes, _pairs
from isom.masterdata.models import Item, Location, Unit

# Aliases made once: making one is costly, and the same objects let statements be cached.
_MOVED, _PARENT = aliased(Container, name="moved"), aliased(Container, name="parent")
_FROM_PARENT = aliased(Container, name="from_parent")
_TO_PARENT = aliased(Container, name="to_parent")
_FROM_LOCATION = aliased(Location, name="from_location")
_TO_LOCATION = aliased(Location, name="to_location")


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
    if found is None or not sites.allows(found.site_id):
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
    if found is None or not sites.allows(found[0].site_id):
        raise NotFound(
            f"no container with code {code!r}",
            field="code",
            expected="the code on a container's label",
        )
    cont, location, parent_code = found
    return _container_tree(session, cont, location, parent_code, with_history=True)


def subtree_codes(session: Session, code: str) -> list[str]:
    """The codes of a container and everything nested in it."""
    cont = session.scalar(select(Container).where(Container.code == code))
    if cont is None or not sites.allows(cont.site_id):
        raise NotFound(f"no container with code {code!r}", field="code")
    ids = nesting.subtree_ids(session, cont.id)
    return list(session.scalars(select(Container.code).where(Container.id.in_(ids))))
