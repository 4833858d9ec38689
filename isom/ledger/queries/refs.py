"""Containers, lots and stock lines as plain rows: the ledger's door for other domains that name
a container by its label, show a lot, or look for stock to reserve.

They return frozen dataclasses, never the ledger's ORM rows, so no other domain queries or
changes the ledger's tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from isom.ledger.enums import ContainerStatus, ContentStatus
from isom.ledger.models import Container, Content, Lot
from isom.masterdata.models import Item, Location, LocationKind, Unit


@dataclass(frozen=True)
class ContainerRef:
    """A container as other domains see it: its label, where it is and whether it is active."""

    id: int
    code: str
    kind: str
    location_id: int | None
    parent_id: int | None
    status: ContainerStatus
    site_id: int | None


@dataclass(frozen=True)
class LotRef:
    """A lot (or serial) of an item, with its expiry."""

    id: int
    item_id: int
    code: str
    expiry_date: dt.date | None


def _container_ref(c: Container) -> ContainerRef:
    return ContainerRef(c.id, c.code, c.kind, c.location_id, c.parent_id, c.status, c.site_id)


def container_by_code(session: Session, code: str) -> ContainerRef | None:
    """The container with this label code, if there is one."""
    found = session.scalar(select(Container).where(Container.code == code))
    return _container_ref(found) if found is not None else None


def containers_by_code(session: Session, codes: Iterable[str]) -> dict[str, ContainerRef]:
    """The containers with these label codes, by code (one round trip for a scan's codes)."""
    return {c.code: c for c in _containers_where(session, Container.code, codes)}


def containers_by_id(session: Session, ids: Iterable[int]) -> dict[int, ContainerRef]:
    """The containers with these ids, by id."""
    return {c.id: c for c in _containers_where(session, Container.id, ids)}


def _containers_where(session: Session, column: Any, keys: Iterable[Any]) -> list[ContainerRef]:
    wanted = set(keys)
    if not wanted:
        return []
    return [_container_ref(c) for c in session.scalars(select(Container).where(column.in_(wanted)))]


def container_code(session: Session, container_id: int | None) -> str | None:
    """The label code of a container, if it exists."""
    if container_id is None:
        return None
    found: str | None = session.scalar(select(Container.code).where(Container.id == container_id))
    return found


def lots_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, LotRef]:
    """The lots with these ids, by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.scalars(select(Lot).where(Lot.id.in_(wanted)))
    return {lot.id: LotRef(lot.id, lot.item_id, lot.code, lot.expiry_date) for lot in rows}


def lot_id(session: Session, item_id: int, code: str) -> int | None:
    """The id of lot `code` of an item, if it exists."""
    found: int | None = session.scalar(
        select(Lot.id).where(Lot.item_id == item_id, Lot.code == code)
    )
    return found


@dataclass(frozen=True)
class AvailableLine:
    """A line of available stock in an active container, and whether the container holds
    nothing else (no other line, no nested container)."""

    container_id: int
    container: str
    item_id: int
    lot_id: int | None
    lot: str | None
    expiry: dt.date | None
    quantity: Decimal
    whole: bool


def available_lines(
    session: Session,
    item_id: int,
    *,
    container_id: int | None = None,
    lot_id: int | None = None,
    lock: bool = False,
) -> list[AvailableLine]:
    """Available stock of an item in active containers, neither held, nor a step's WIP, nor
    floor stock at a workstation. With `lock`, the containers are locked first, so a caller
    reading what is free of its own reservations reads after a concurrent one committed."""
    query = (
        select(Content, Container.code, Lot.code, Lot.expiry_date)
        .join(Container, Container.id == Content.container_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .outerjoin(Location, Location.id == Container.location_id)
        .where(
            Content.item_id == item_id,
            Content.status == ContentStatus.available,
            Content.wip_step.is_(None),
            Content.quantity > 0,
            Container.status == ContainerStatus.active,
            or_(Location.kind.is_(None), Location.kind != LocationKind.workstation),
        )
    )
    if container_id is not None:
        query = query.where(Content.container_id == container_id)
    if lot_id is not None:
        query = query.where(Content.lot_id == lot_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    ids = {row[0].container_id for row in rows}
    if lock:  # two reservations of the same stock queue here; the second sees the first's rows
        session.execute(
            select(Container.id)
            .where(Container.id.in_(ids))
            .order_by(Container.id)
            .with_for_update()
        )
    lines_per_container = dict(
        session.execute(
            select(Content.container_id, func.count())
            .where(Content.container_id.in_(ids), Content.quantity > 0)
            .group_by(Content.container_id)
        ).all()
    )
    parents = set(session.scalars(select(Container.parent_id).where(Container.parent_id.in_(ids))))
    return [
        AvailableLine(
            container_id=content.container_id,
            container=code,
            item_id=content.item_id,
            lot_id=content.lot_id,
            lot=lot_code,
            expiry=expiry,
            quantity=content.quantity,
            whole=lines_per_container[content.container_id] == 1
            and content.container_id not in parents,
        )
        for content, code, lot_code, expiry in rows
    ]


def containers_holding_lot(session: Session, item_id: int, lot_code: str) -> list[str]:
    """The codes of the containers holding some of lot (or serial) `lot_code` of an item."""
    return list(
        session.scalars(
            select(Container.code)
            .join(Content, Content.container_id == Container.id)
            .join(Lot, Lot.id == Content.lot_id)
            .where(Content.item_id == item_id, Lot.code == lot_code, Content.quantity > 0)
            .distinct()
        )
    )


class ContentLine(NamedTuple):
    """A line of a container: item code, lot, quantity, status and the step it is WIP of."""

    item: str
    lot: str | None
    quantity: Decimal
    status: ContentStatus
    wip_step: str | None


def content_lines(session: Session, container_id: int) -> list[ContentLine]:
    """What a container holds now, line by line in the order it came in."""
    rows = session.execute(
        select(Item.code, Lot.code, Content.quantity, Content.status, Content.wip_step)
        .join(Item, Item.id == Content.item_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .where(Content.container_id == container_id, Content.quantity > 0)
        .order_by(Content.id)
    )
    return [ContentLine(*row) for row in rows]


def standing_containers(session: Session, location_kind: str) -> dict[str, str]:
    """Active top-level containers at locations of a kind (bins): code -> location code."""
    rows = session.execute(
        select(Container.code, Location.code)
        .join(Location, Location.id == Container.location_id)
        .where(
            Container.status == ContainerStatus.active,
            Container.parent_id.is_(None),
            Location.kind == location_kind,
        )
    )
    return {code: where for code, where in rows}


def lines_in_unit(session: Session, unit_code: str) -> list[tuple[str, Decimal]]:
    """(container code, quantity) of every line of an item counted in a unit (kg) in an active
    container."""
    rows = session.execute(
        select(Container.code, Content.quantity)
        .join(Content, Content.container_id == Container.id)
        .join(Item, Item.id == Content.item_id)
        .join(Unit, Unit.id == Item.base_unit_id)
        .where(
            Unit.code == unit_code, Content.quantity > 0, Container.status == ContainerStatus.active
        )
    )
    return [(code, Decimal(q)) for code, q in rows]


def standing_at(session: Session, codes: Iterable[str], location_code: str) -> set[str]:
    """Which of these containers stand at the location on their own (not nested in another)."""
    return set(
        session.scalars(
            select(Container.code)
            .join(Location, Location.id == Container.location_id)
            .where(
                Container.code.in_(list(codes)),
                Location.code == location_code,
                Container.parent_id.is_(None),
            )
        )
    )


class StockAt(NamedTuple):
    """A line of stock in an active container (held or available, not WIP), where it stands."""

    item: str
    lot: str | None
    container_id: int
    container: str
    location_id: int
    location_path: str | None
    status: ContentStatus
    quantity: Decimal


def stock_at_locations(session: Session) -> list[StockAt]:
    """Every non-WIP line of stock in active containers at a location, by item and container."""
    rows = session.execute(
        select(
            Item.code,
            Lot.code,
            Container.id,
            Container.code,
            Location.id,
            Location.path,
            Content.status,
            Content.quantity,
        )
        .join(Container, Container.id == Content.container_id)
        .join(Item, Item.id == Content.item_id)
        .join(Location, Location.id == Container.location_id)
        .outerjoin(Lot, Lot.id == Content.lot_id)
        .where(
            Content.quantity != 0,
            Content.status != ContentStatus.wip,
            Container.status == ContainerStatus.active,
        )
        .order_by(Item.code, Container.code)
    )
    return [StockAt(*row) for row in rows]


class LotStock(NamedTuple):
    """A line of a lot in an active container, with the item's name and unit and the lot's
    expiry and supplier lot."""

    item: str
    item_name: str
    unit: str
    lot: str
    expiry_date: dt.date | None
    supplier_lot: str | None
    container: str
    location: str | None
    status: ContentStatus
    quantity: Decimal


def lot_stock(session: Session, item_id: int | None = None) -> list[LotStock]:
    """Every lot's stock (of one item) by container, by item, lot, container and status."""
    query = (
        select(
            Item.code,
            Item.name,
            Unit.code,
            Lot.code,
            Lot.expiry_date,
            Lot.supplier_lot,
            Container.code,
            Location.code,
            Content.status,
            Content.quantity,
        )
        .join(Container, Container.id == Content.container_id)
        .join(Lot, Lot.id == Content.lot_id)
        .join(Item, Item.id == Content.item_id)
        .join(Unit, Unit.id == Item.base_unit_id)
        .outerjoin(Location, Location.id == Container.location_id)
        .where(Content.quantity > 0, Container.status == ContainerStatus.active)
        .order_by(Item.code, Lot.code, Container.code, Content.status)
    )
    if item_id is not None:
        query = query.where(Content.item_id == item_id)
    return [LotStock._make(row) for row in session.execute(query)]


class LineRef(NamedTuple):
    """A content line of a container by ids: item, lot, quantity."""

    item_id: int
    lot_id: int | None
    quantity: Decimal


def lines_of(session: Session, container_id: int, *, active_only: bool = False) -> list[LineRef]:
    """Every content line of a container (none if `active_only` and it is not active)."""
    query = (
        select(Content.item_id, Content.lot_id, Content.quantity)
        .join(Container, Container.id == Content.container_id)
        .where(Content.container_id == container_id)
        .order_by(Content.id)
    )
    if active_only:
        query = query.where(Container.status == ContainerStatus.active)
    return [LineRef(*row) for row in session.execute(query)]


def location_code_of(session: Session, container_id: int) -> str | None:
    """The code of the location a container stands at, if any."""
    found: str | None = session.scalar(
        select(Location.code)
        .join(Container, Container.location_id == Location.id)
        .where(Container.id == container_id)
    )
    return found


def containers_with_lot_code(session: Session, lot_code: str) -> list[str]:
    """The codes of the containers that hold (or held) a lot of this code, of any item."""
    return list(
        session.scalars(
            select(Container.code)
            .join(Content, Content.container_id == Container.id)
            .join(Lot, Lot.id == Content.lot_id)
            .where(Lot.code == lot_code)
            .distinct()
        )
    )
