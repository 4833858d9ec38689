"""A container as people see it: contents, nested children, and its event history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, or_, select
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
from isom.ledger.queries.common import _rows
from isom.masterdata.models import Item, Location, Unit

# Aliases made once: making one is costly, and the same objects let statements be cached.
_MOVED, _PARENT = aliased(Container, name="moved"), aliased(Container, name="parent")
_FROM_PARENT = aliased(Container, name="from_parent")
_TO_PARENT = aliased(Container, name="to_parent")
_FROM_LOCATION = aliased(Location, name="from_location")
_TO_LOCATION = aliased(Location, name="to_location")
_REVERSAL = aliased(Event, name="reversal")
_CENT = Decimal("0.01")


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


_CONTENTS = (
    select(
        Content.container_id,
        Item.code,
        Item.name,
        Unit.code,
        Lot.code,
        Lot.expiry_date,
        Content.status,
        Content.wip_step,
        Content.quantity,
        Content.unit_cost,
    )
    .join(Item, Item.id == Content.item_id)
    .join(Unit, Unit.id == Item.base_unit_id)
    .outerjoin(Lot, Lot.id == Content.lot_id)
    .where(Content.container_id.in_(bindparam("ids", expanding=True)))
    .order_by(Item.code, Lot.code)
)


def _contents(session: Session, ids: list[int]) -> dict[int, list[ContentView]]:
    """What each of these containers holds, in one query; rows of our own projection, already
    typed, so the views are made without validating them again."""
    by_container: dict[int, list[ContentView]] = {}
    for cid, icode, iname, ucode, lotcode, expiry, status, wip, qty, cost in _rows(
        session, _CONTENTS, {"ids": ids}
    ):
        by_container.setdefault(cid, []).append(
            ContentView.model_construct(
                item=icode,
                item_name=iname,
                unit=ucode,
                lot=lotcode,
                expiry_date=expiry,
                status=status,
                wip_step=wip,
                quantity=qty,
                unit_cost=cost,
                value=(qty * cost).quantize(_CENT),
            )
        )
    return by_container


def _of_events(query: Any, table: Any) -> Any:
    """`query` over the rows of `table` (lines, moves) that belong to the events `ids`."""
    return query.where(table.event_id.in_(bindparam("ids", expanding=True))).order_by(table.id)


_LINES = _of_events(
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
    .outerjoin(Container, Container.id == EventLine.container_id),
    EventLine,
)
_MOVES = _of_events(
    select(
        EventMove.event_id,
        _MOVED.code,
        _FROM_LOCATION.code,
        _TO_LOCATION.code,
        _FROM_PARENT.code,
        _TO_PARENT.code,
        EventMove.to_status,
    )
    .outerjoin(_MOVED, _MOVED.id == EventMove.container_id)
    .outerjoin(_FROM_LOCATION, _FROM_LOCATION.id == EventMove.from_location_id)
    .outerjoin(_TO_LOCATION, _TO_LOCATION.id == EventMove.to_location_id)
    .outerjoin(_FROM_PARENT, _FROM_PARENT.id == EventMove.from_parent_id)
    .outerjoin(_TO_PARENT, _TO_PARENT.id == EventMove.to_parent_id),
    EventMove,
)
# An event with its location's code and the event that reversed it, if any: one row each.
_EVENTS = (
    select(
        Event.id,
        Event.key,
        Event.kind,
        Event.occurred_at,
        Event.recorded_at,
        Event.actor,
        Event.device,
        Location.code,
        Event.reason,
        Event.reason_code,
        Event.reference,
        Event.reverses_event_id,
        _REVERSAL.id,
    )
    .outerjoin(Location, Location.id == Event.location_id)
    .outerjoin(_REVERSAL, _REVERSAL.reverses_event_id == Event.id)
)


_EVENT_BY_ID = _EVENTS.where(Event.id == bindparam("event_id"))


def _lines_by_event(session: Session, ids: list[int]) -> dict[int, list[LineView]]:
    """The lines of these events with their codes, in one query."""
    by_event: dict[int, list[LineView]] = {}
    for event_id, container, place, item, lot, status, wip, quantity, cost in _rows(
        session, _LINES, {"ids": ids}
    ):
        by_event.setdefault(event_id, []).append(
            LineView.model_construct(
                container=container,
                place=place,
                item=item,
                lot=lot,
                status=status,
                wip_step=wip,
                quantity=quantity,
                unit_cost=cost,
            )
        )
    return by_event


def _moves_by_event(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The container moves of these events with their codes, in one query."""
    by_event: dict[int, list[dict[str, Any]]] = {}
    for (
        event_id,
        container,
        from_location,
        to_location,
        from_par,
        to_par,
        to_status,
    ) in _rows(session, _MOVES, {"ids": ids}):
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


def _event_views(session: Session, events: Sequence[Any]) -> list[EventView]:
    """Rows of `_EVENTS` as views, their lines and moves named by code: two more queries for
    any number of events."""
    if not events:
        return []
    ids = [e[0] for e in events]
    lines = _lines_by_event(session, ids)
    moves = _moves_by_event(session, ids)
    return [
        EventView.model_construct(
            id=event_id,
            key=key,
            kind=kind,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            actor=actor,
            device=device,
            location=location,
            reason=reason,
            reason_code=reason_code,
            reference=reference,
            reverses_event_id=reverses,
            reversed_by_event_id=reversed_by,
            lines=lines.get(event_id, []),
            moves=moves.get(event_id, []),
        )
        for (
            event_id,
            key,
            kind,
            occurred_at,
            recorded_at,
            actor,
            device,
            location,
            reason,
            reason_code,
            reference,
            reverses,
            reversed_by,
        ) in events
    ]


def event(session: Session, event_id: int) -> EventView:
    """One event as it was applied."""
    found = session.execute(
        _EVENTS.where(Event.id == bindparam("event_id"), sites.within(Event.site_id)),
        {"event_id": event_id},
    ).all()
    if not found:
        raise NotFound(f"no event {event_id}", field="event_id")
    return _event_views(session, found)[0]


_RIDES = (
    select(EventMove.event_id, EventMove.to_parent_id)
    .where(EventMove.container_id == bindparam("container_id"))
    .order_by(EventMove.event_id, EventMove.id)
)


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
        moves = _rows(session, _RIDES, {"container_id": cid})
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


def _tree_by_code() -> Any:
    """A container by code and everything nested in it, each with its location's and its
    parent's code: the whole tree in one query."""
    tree = (
        select(Container.id).where(Container.code == bindparam("code")).cte("tree", recursive=True)
    )
    tree = tree.union_all(select(Container.id).where(Container.parent_id == tree.c.id))
    return (
        select(
            Container.id,
            Container.code,
            Container.kind,
            Container.status,
            Container.parent_id,
            Location.code,
            _PARENT.code,
            Container.site_id,
        )
        .outerjoin(Location, Location.id == Container.location_id)
        .outerjoin(_PARENT, _PARENT.id == Container.parent_id)
        .where(Container.id.in_(select(tree.c.id)))
        .order_by(Container.code)
    )


_TREE = _tree_by_code()
_HISTORY = (
    _EVENTS.where(
        or_(
            Event.id.in_(
                select(EventLine.event_id)
                .where(EventLine.container_id == bindparam("container_id"))
                .union(
                    select(EventMove.event_id).where(
                        or_(
                            EventMove.container_id == bindparam("container_id"),
                            EventMove.to_parent_id == bindparam("container_id"),
                        )
                    )
                )
            ),
            Event.id.in_(bindparam("carried", expanding=True)),
        )
    )
    .order_by(Event.id.desc())
    .limit(500)
)


def container(session: Session, code: str) -> ContainerView:
    """A container with contents, nested children (at every depth) and its history, newest first."""
    tree = _rows(session, _TREE, {"code": code})
    root = next((row for row in tree if row[1] == code), None)
    if root is None or not sites.allows(root[7]):
        raise NotFound(
            f"no container with code {code!r}",
            field="code",
            expected="the code on a container's label",
        )
    contents = _contents(session, [row[0] for row in tree])
    children: dict[int, list[Any]] = {}
    for row in tree:  # in code order
        if row[0] != root[0] and row[4] is not None:
            children.setdefault(row[4], []).append(row)
    carried = sorted(_carrier_event_ids(session, root[0]))
    history = _rows(session, _HISTORY, {"container_id": root[0], "carried": carried})

    def view(row: Any, history: list[EventView]) -> ContainerView:
        cid, ccode, kind, status, _parent_id, location, parent, _site = row
        return ContainerView.model_construct(
            code=ccode,
            kind=kind,
            status=status.value,
            location=location,
            parent=parent,
            children=[view(child, []) for child in children.get(cid, [])],
            contents=contents.get(cid, []),
            history=history,
        )

    return view(root, _event_views(session, history))


def subtree_codes(session: Session, code: str) -> list[str]:
    """The codes of a container and everything nested in it."""
    cont = session.scalar(select(Container).where(Container.code == code))
    if cont is None or not sites.allows(cont.site_id):
        raise NotFound(f"no container with code {code!r}", field="code")
    ids = nesting.subtree_ids(session, cont.id)
    return list(session.scalars(select(Container.code).where(Container.id.in_(ids))))
