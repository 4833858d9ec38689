"""Look-ups other domains need: a container's id, a lot, which lot codes exist, the stock on a
workstation's floor, the lines
booked to a step or tagged as its WIP, the newest event.

They are the ledger's door for those reads, so no other domain queries the ledger's tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.ledger.enums import EventKind
from isom.ledger.models import Container, Content, Event, EventLine, Lot
from isom.ledger.schemas import AdjustReason
from isom.masterdata.models import Item


def container_id(session: Session, code: str) -> int | None:
    """The id of the container with `code`, if there is one."""
    found: int | None = session.scalar(select(Container.id).where(Container.code == code))
    return found


def find_lot(session: Session, item_id: int, code: str) -> Lot | None:
    """The lot `code` of an item, if it exists."""
    return session.scalar(select(Lot).where(Lot.item_id == item_id, Lot.code == code))


def lot_codes_in_use(session: Session, item_id: int, codes: Iterable[str]) -> list[str]:
    """Which of `codes` are already lots (or serials) of the item, sorted."""
    wanted = list(codes)
    return sorted(
        session.scalars(select(Lot.code).where(Lot.item_id == item_id, Lot.code.in_(wanted)))
    )


class StockLine(NamedTuple):
    """A line of a container: its code, the quantity and the lot (if any)."""

    container: str
    quantity: Decimal
    lot: str | None


def floor_stock(session: Session, location_id: int | None, item_id: int) -> list[StockLine]:
    """Available stock of an item at a location that is no step's WIP, oldest content first."""
    rows = session.execute(
        select(Container.code, Content.quantity, Lot.code)
        .join(Container, Container.id == Content.container_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .where(
            Container.location_id == location_id,
            Content.item_id == item_id,
            Content.wip_step.is_(None),
            Content.status == "available",
            Content.quantity > 0,
        )
        .order_by(Content.id)
    ).all()
    return [StockLine(str(code), quantity, lot) for code, quantity, lot in rows]


def wip_tags(session: Session, container_code: str, item_id: int) -> list[str | None]:
    """The WIP step each line of an item in a container belongs to (None: plain stock)."""
    return list(
        session.scalars(
            select(Content.wip_step)
            .join(Container, Container.id == Content.container_id)
            .where(
                Container.code == container_code,
                Content.item_id == item_id,
                Content.quantity > 0,
            )
        )
    )


def wip_lines(session: Session, step_ref: str) -> list[tuple[str, str, str | None, Decimal]]:
    """Container lines tagged as WIP of a step, as (container, item, lot, quantity)."""
    rows = session.execute(
        select(Container.code, Item.code, Lot.code, Content.quantity)
        .join(Container, Container.id == Content.container_id)
        .join(Item, Item.id == Content.item_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .where(Content.wip_step == step_ref, Content.quantity > 0)
        .order_by(Container.code, Content.id)
    ).all()
    return [(str(c), str(i), lt, q) for c, i, lt, q in rows]


class PlaceLine(NamedTuple):
    """An event line booked to a virtual place (a step's `step:<wo>/<seq>`)."""

    place: str
    item_id: int
    quantity: Decimal
    unit_cost: Decimal


def place_lines(session: Session, places: Iterable[str]) -> list[PlaceLine]:
    """Every line booked to these virtual places (consumed in, produced out)."""
    wanted = list(places)
    if not wanted:
        return []
    rows = session.execute(
        select(EventLine.place, EventLine.item_id, EventLine.quantity, EventLine.unit_cost).where(
            EventLine.place.in_(wanted)
        )
    )
    return [PlaceLine(str(place), item_id, q, c) for place, item_id, q, c in rows]


class WipLine(NamedTuple):
    """A container line tagged as a step's WIP (waiting for the next step)."""

    step: str
    container: str
    item_id: int
    lot: str | None
    quantity: Decimal


def wip_lines_of(session: Session, step_refs: Iterable[str]) -> list[WipLine]:
    """The container lines tagged as WIP of these steps, by container code."""
    wanted = list(step_refs)
    if not wanted:
        return []
    rows = session.execute(
        select(Content.wip_step, Container.code, Content.item_id, Lot.code, Content.quantity)
        .join(Container, Container.id == Content.container_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .where(Content.wip_step.in_(wanted), Content.quantity > 0)
        .order_by(Container.code)
    )
    return [WipLine(str(ref), code, item_id, lot, q) for ref, code, item_id, lot, q in rows]


def last_event_id(session: Session) -> int | None:
    """The newest ledger event's id: what a view keyed on the ledger compares to refresh."""
    found: int | None = session.scalar(select(func.max(Event.id)))
    return found


class CostedLine(NamedTuple):
    """A line's lot (if any), quantity and unit cost."""

    item_id: int
    lot_id: int | None
    quantity: Decimal
    unit_cost: Decimal


def produced_into_stock(session: Session, step_ref: str, item_id: int) -> list[CostedLine]:
    """The lines a step produced of an item into containers as plain stock (not WIP), in order."""
    rows = session.execute(
        select(EventLine.item_id, EventLine.lot_id, EventLine.quantity, EventLine.unit_cost)
        .join(Event, Event.id == EventLine.event_id)
        .where(
            Event.kind == EventKind.produce,
            Event.reference == step_ref,
            EventLine.item_id == item_id,
            EventLine.container_id.is_not(None),
            EventLine.wip_step.is_(None),
        )
        .order_by(EventLine.id)
    )
    return [CostedLine(*row) for row in rows]


def scrapped_remnants(session: Session, step_refs: Iterable[str]) -> list[CostedLine]:
    """Every remnant scrapped after a cut of these steps (docs/design/continuous.md)."""
    rows = session.execute(
        select(EventLine.item_id, EventLine.lot_id, EventLine.quantity, EventLine.unit_cost)
        .join(Event, Event.id == EventLine.event_id)
        .where(
            Event.kind == EventKind.scrap,
            Event.reason_code == AdjustReason.remnant.value,
            Event.reference.in_(list(step_refs)),
            EventLine.place == "scrap",
        )
    )
    return [CostedLine(*row) for row in rows]


def events_after(session: Session, after: int) -> list[tuple[int, dt.datetime]]:
    """(id, recorded at) of every ledger event after the id `after`, oldest first."""
    rows = session.execute(
        select(Event.id, Event.recorded_at).where(Event.id > after).order_by(Event.id)
    )
    return [(event_id, at) for event_id, at in rows]


def items_touched_after(session: Session, after: int) -> set[int]:
    """The items the lines of ledger events after the id `after` name."""
    return set(
        session.scalars(select(EventLine.item_id).where(EventLine.event_id > after).distinct())
    )
