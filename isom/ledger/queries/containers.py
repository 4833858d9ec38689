"""A container as people see it: contents, nested children, and its event history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

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


def _event_views(session: Session, events: list[Event]) -> list[EventView]:
    if not events:
        return []
    ids = [e.id for e in events]
    lines = session.scalars(
        select(EventLine).where(EventLine.event_id.in_(ids)).order_by(EventLine.id)
    ).all()
    moves = session.scalars(
        select(EventMove).where(EventMove.event_id.in_(ids)).order_by(EventMove.id)
    ).all()
    reversals = _pairs(
        session.execute(
            select(Event.reverses_event_id, Event.id).where(Event.reverses_event_id.in_(ids))
        )
    )
    items = _codes(session, Item, {ln.item_id for ln in lines})
    lots = _codes(session, Lot, {ln.lot_id for ln in lines if ln.lot_id})
    conts = _codes(
        session,
        Container,
        {ln.container_id for ln in lines if ln.container_id}
        | {m.container_id for m in moves}
        | {m.to_parent_id for m in moves if m.to_parent_id}
        | {m.from_parent_id for m in moves if m.from_parent_id},
    )
    locs = _codes(
        session,
        Location,
        {e.location_id for e in events if e.location_id}
        | {m.to_location_id for m in moves if m.to_location_id}
        | {m.from_location_id for m in moves if m.from_location_id},
    )
    by_event_lines: dict[int, list[LineView]] = {}
    for ln in lines:
        by_event_lines.setdefault(ln.event_id, []).append(
            LineView(
                container=conts.get(ln.container_id) if ln.container_id else None,
                place=ln.place,
                item=items[ln.item_id],
                lot=lots.get(ln.lot_id) if ln.lot_id else None,
                status=ln.status,
                wip_step=ln.wip_step,
                quantity=ln.quantity,
                unit_cost=ln.unit_cost,
            )
        )
    by_event_moves: dict[int, list[dict[str, Any]]] = {}
    for m in moves:
        by_event_moves.setdefault(m.event_id, []).append(
            {
                "container": conts.get(m.container_id),
                "from_location": locs.get(m.from_location_id) if m.from_location_id else None,
                "to_location": locs.get(m.to_location_id) if m.to_location_id else None,
                "from_parent": conts.get(m.from_parent_id) if m.from_parent_id else None,
                "to_parent": conts.get(m.to_parent_id) if m.to_parent_id else None,
                "to_status": m.to_status.value if m.to_status else None,
            }
        )
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
            lines=by_event_lines.get(e.id, []),
            moves=by_event_moves.get(e.id, []),
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


def _container_tree(session: Session, cont: Container, *, with_history: bool) -> ContainerView:
    children = session.scalars(
        select(Container).where(Container.parent_id == cont.id).order_by(Container.code)
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
    loc = session.get(Location, cont.location_id) if cont.location_id else None
    parent = session.get(Container, cont.parent_id) if cont.parent_id else None
    return ContainerView(
        code=cont.code,
        kind=cont.kind,
        status=cont.status.value,
        location=loc.code if loc else None,
        parent=parent.code if parent else None,
        children=[_container_tree(session, c, with_history=False) for c in children],
        contents=_contents(session, cont.id),
        history=history,
    )


def container(session: Session, code: str) -> ContainerView:
    """A container with contents, nested children (at every depth) and its history, newest first."""
    cont = session.scalar(select(Container).where(Container.code == code))
    if cont is None:
        raise NotFound(
            f"no container with code {code!r}",
            field="code",
            expected="the code on a container's label",
        )
    return _container_tree(session, cont, with_history=True)


def subtree_codes(session: Session, code: str) -> list[str]:
    """The codes of a container and everything nested in it."""
    cont = session.scalar(select(Container).where(Container.code == code))
    if cont is None:
        raise NotFound(f"no container with code {code!r}", field="code")
    ids = nesting.subtree_ids(session, cont.id)
    return list(session.scalars(select(Container.code).where(Container.id.in_(ids))))
