"""Read-only order queries that planning and the agents call (helper D2 builds on these).

- `open_customer_demand(session, item_ids=None)` -> list[Demand]: every customer line still to
  ship (status open / reserved / partly_shipped), with `open_quantity` = quantity - shipped,
  its due date, the order's priority (rush < normal < low by `PRIORITY_RANK`), and what is
  already reserved for it. Ordered by priority, due date, order number, line number.
- `open_purchase_supply(session, item_ids=None, include_proposed=True)` -> list[Supply]:
  every purchase line not yet received or cancelled on an order that is proposed, approved,
  sent or partly received, with `open_quantity` = quantity - received and its due date.
  Proposed orders are supply the planner has not yet committed to; pass
  `include_proposed=False` to leave them out.
- `reserved_by_item(session, item_ids=None)` -> dict[item_id, Decimal]: active reservations.
- `reservations(session, item_ids=None)` -> list[ReservationRow]: each active reservation
  with its line, container and lot.
- `line_by_reference(session, "SO-1001/1")` -> the customer line (404 if none): the string
  work orders carry in `customer_line`.

All quantities are in the item's base unit, all `Decimal`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import InvalidInput, NotFound
from isom.masterdata.models import Customer, Item, Supplier
from isom.orders.models import (
    OPEN_SHIP_ORDER,
    PRIORITY_RANK,
    CustomerLine,
    CustomerLineStatus,
    CustomerOrder,
    OrderEvent,
    Pick,
    PickStatus,
    Priority,
    PurchaseLine,
    PurchaseLineStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
    ShipOrderStatus,
)

Order = TypeVar("Order", CustomerOrder, PurchaseOrder)
Line = TypeVar("Line", CustomerLine, PurchaseLine)


def order_by_number(
    session: Session, model: type[Order], number: str, *, what: str, lock: bool = False
) -> Order:
    """The customer or purchase order with this number (locked when `lock`), or 404."""
    query = select(model).where(model.number == number)
    if lock:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"no {what} {number!r}", field="order", expected="an existing order number")
    sites.check(order.site_id, what, number, field="order")
    return order


def newest(session: Session, model: type[Order], status: Any, limit: int) -> list[str]:
    """The numbers of the newest customer or purchase orders of the caller's sites, optionally
    of one status."""
    query = select(model.number).where(sites.within(model.site_id))
    if status is not None:
        query = query.where(model.status == status)
    return list(session.scalars(query.order_by(model.id.desc()).limit(limit)))


def order_lines(session: Session, model: type[Line], order_id: int) -> list[Line]:
    """An order's lines by line number."""
    return list(
        session.scalars(select(model).where(model.order_id == order_id).order_by(model.line_no))
    )


def order_line(
    session: Session, model: type[Line], order_id: int, line_no: int, *, what: str
) -> Line:
    """One line of an order, or 404 naming the order (`what`, e.g. "customer order SO-1")."""
    line = session.scalar(select(model).where(model.order_id == order_id, model.line_no == line_no))
    if line is None:
        raise NotFound(
            f"{what} has no line {line_no}",
            field="line_no",
            expected="the number of one of the order's lines",
        )
    return line


OPEN_CUSTOMER_LINE = (
    CustomerLineStatus.open,
    CustomerLineStatus.reserved,
    CustomerLineStatus.partly_shipped,
)
OPEN_PURCHASE_LINE = (PurchaseLineStatus.open, PurchaseLineStatus.partly_received)
SUPPLYING_ORDER = (
    PurchaseOrderStatus.proposed,
    PurchaseOrderStatus.approved,
    PurchaseOrderStatus.sent,
    PurchaseOrderStatus.partly_received,
)


@dataclass(frozen=True)
class Demand:
    """A customer line still to ship."""

    line_id: int
    reference: str
    order_number: str
    line_no: int
    customer: str
    item_id: int
    item: str
    open_quantity: Decimal
    reserved_quantity: Decimal
    due_date: dt.date
    priority: Priority
    allow_partial: bool

    @property
    def rank(self) -> tuple[int, dt.date, str, int]:
        """Rush before normal before low, then earliest due date."""
        return (PRIORITY_RANK[self.priority], self.due_date, self.order_number, self.line_no)


@dataclass(frozen=True)
class Supply:
    """A purchase line still to arrive."""

    line_id: int
    reference: str
    order_number: str
    line_no: int
    supplier: str
    item_id: int
    item: str
    open_quantity: Decimal
    due_date: dt.date
    order_status: PurchaseOrderStatus


@dataclass(frozen=True)
class ReservationRow:
    """Stock in a container set aside for a customer line."""

    reservation_id: int
    line_id: int
    reference: str
    item_id: int
    container_id: int
    lot_id: int | None
    quantity: Decimal


def line_reference(number: str, line_no: int) -> str:
    """How a customer or purchase line is named outside its order: 'SO-1001/1'."""
    return f"{number}/{line_no}"


def _open_lines(
    session: Session,
    line: Any,
    order: Any,
    partner: Any,
    done: Any,
    *more: Any,
    partner_of: Any,
    where: list[Any],
    item_ids: Iterable[int] | None,
) -> list[tuple[dict[str, Any], str, tuple[Any, ...]]]:
    """The lines of one kind of order with something still open (`done` short of the quantity):
    what demand and supply share of each, the partner's code, and the `more` columns asked."""
    query = (
        select(
            line.id,
            order.number,
            line.line_no,
            partner.code,
            line.item_id,
            Item.code,
            line.quantity,
            done,
            *more,
        )  # fmt: skip
        .join(order, order.id == line.order_id)
        .join(partner, partner.id == partner_of)
        .join(Item, Item.id == line.item_id)
        .where(*where)
    )
    if item_ids is not None:
        query = query.where(line.item_id.in_(list(item_ids)))
    return [
        (
            {
                "line_id": row[0],
                "reference": line_reference(row[1], row[2]),
                "order_number": row[1],
                "line_no": row[2],
                "item_id": row[4],
                "item": row[5],
                "open_quantity": row[6] - row[7],
            },
            row[3],
            tuple(row[8:]),
        )
        for row in session.execute(query)
        if row[6] > row[7]
    ]


def open_customer_demand(session: Session, item_ids: Iterable[int] | None = None) -> list[Demand]:
    """Every customer line still to ship, rush first, then by due date."""
    lines = _open_lines(
        session, CustomerLine, CustomerOrder, Customer, CustomerLine.quantity_shipped,
        CustomerLine.quantity_reserved, CustomerLine.due_date, CustomerOrder.priority,
        CustomerOrder.allow_partial,
        partner_of=CustomerOrder.customer_id, where=[CustomerLine.status.in_(OPEN_CUSTOMER_LINE)],
        item_ids=item_ids,
    )  # fmt: skip
    demand = [
        Demand(
            **common,
            customer=customer,
            reserved_quantity=reserved,
            due_date=due,
            priority=priority,
            allow_partial=partial,
        )  # fmt: skip
        for common, customer, (reserved, due, priority, partial) in lines
    ]
    demand.sort(key=lambda d: d.rank)
    return demand


def open_purchase_supply(
    session: Session, item_ids: Iterable[int] | None = None, *, include_proposed: bool = True
) -> list[Supply]:
    """Every purchase line still to arrive, by due date."""
    statuses = [
        s for s in SUPPLYING_ORDER if include_proposed or s is not PurchaseOrderStatus.proposed
    ]
    lines = _open_lines(
        session, PurchaseLine, PurchaseOrder, Supplier, PurchaseLine.quantity_received,
        PurchaseLine.due_date, PurchaseOrder.status, partner_of=PurchaseOrder.supplier_id,
        where=[PurchaseLine.status.in_(OPEN_PURCHASE_LINE), PurchaseOrder.status.in_(statuses)],
        item_ids=item_ids,
    )  # fmt: skip
    supply = [
        Supply(**common, supplier=supplier, due_date=due, order_status=status)
        for common, supplier, (due, status) in lines
    ]
    supply.sort(key=lambda s: (s.due_date, s.order_number, s.line_no))
    return supply


def reserved_by_item(session: Session, item_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """How much of each item active reservations hold."""
    query = (
        select(Reservation.item_id, func.sum(Reservation.quantity))
        .where(Reservation.status == ReservationStatus.active)
        .group_by(Reservation.item_id)
    )
    if item_ids is not None:
        query = query.where(Reservation.item_id.in_(list(item_ids)))
    return {item_id: total for item_id, total in session.execute(query)}


def reservations(session: Session, item_ids: Iterable[int] | None = None) -> list[ReservationRow]:
    """Each active reservation with the line it serves."""
    query = (
        select(
            Reservation.id,
            Reservation.customer_line_id,
            CustomerOrder.number,
            CustomerLine.line_no,
            Reservation.item_id,
            Reservation.container_id,
            Reservation.lot_id,
            Reservation.quantity,
        )
        .join(CustomerLine, CustomerLine.id == Reservation.customer_line_id)
        .join(CustomerOrder, CustomerOrder.id == CustomerLine.order_id)
        .where(Reservation.status == ReservationStatus.active)
        .order_by(Reservation.id)
    )
    if item_ids is not None:
        query = query.where(Reservation.item_id.in_(list(item_ids)))
    return [
        ReservationRow(
            reservation_id=row[0],
            line_id=row[1],
            reference=line_reference(row[2], row[3]),
            item_id=row[4],
            container_id=row[5],
            lot_id=row[6],
            quantity=row[7],
        )
        for row in session.execute(query)
    ]


def line_by_reference(session: Session, reference: str) -> CustomerLine:
    """The customer line 'SO-1001/1' names, or 404."""
    number, _, line_no = reference.rpartition("/")
    if not number or not line_no.isdigit():
        raise InvalidInput(
            f"{reference!r} is not a customer line reference",
            field="customer_line",
            expected="'<order number>/<line number>', e.g. 'SO-1001/1'",
        )
    line = session.scalar(
        select(CustomerLine)
        .join(CustomerOrder, CustomerOrder.id == CustomerLine.order_id)
        .where(CustomerOrder.number == number, CustomerLine.line_no == int(line_no))
    )
    if line is None:
        raise NotFound(
            f"no customer line {reference!r}",
            field="customer_line",
            expected="the reference of an existing customer order line",
        )
    return line


def line_site(session: Session, reference: str) -> int | None:
    """The site of the order a customer line reference names (None: no such line)."""
    number = reference.rpartition("/")[0]
    return session.scalar(select(CustomerOrder.site_id).where(CustomerOrder.number == number))


def released_for_shipping(
    session: Session, line_ids: Iterable[int] | None = None
) -> dict[int, Decimal]:
    """How much of each customer line (of `line_ids`, or all) open ship orders release and have
    not shipped yet."""
    # Summed per column, then subtracted: the store adds exact millionths either way.
    query = (
        select(
            ShipLine.customer_line_id,
            func.sum(ShipLine.quantity),
            func.sum(ShipLine.quantity_shipped),
        )
        .join(ShipOrder, ShipOrder.id == ShipLine.ship_order_id)
        .where(ShipOrder.status.in_(OPEN_SHIP_ORDER))
        .group_by(ShipLine.customer_line_id)
    )
    if line_ids is not None:
        query = query.where(ShipLine.customer_line_id.in_(list(line_ids)))
    return {
        line_id: (released or Decimal(0)) - (shipped or Decimal(0))
        for line_id, released, shipped in session.execute(query)
    }


@dataclass(frozen=True)
class OwnLine:
    """A live line of a purchase order a source (the purchasing agent) placed and may change."""

    line_no: int
    item_id: int
    quantity: Decimal
    received: Decimal
    due_date: dt.date


@dataclass(frozen=True)
class OwnOrder:
    """A proposed or approved purchase order of a source, with its live lines."""

    number: str
    supplier: str
    external_ref: str | None
    status: PurchaseOrderStatus
    lines: list[OwnLine]


def changeable_purchase_orders(session: Session, source: str) -> list[OwnOrder]:
    """Purchase orders a source placed that are still proposed or approved (not yet sent)."""
    rows = session.execute(
        select(PurchaseOrder, Supplier.code, PurchaseLine)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .outerjoin(
            PurchaseLine,
            (PurchaseLine.order_id == PurchaseOrder.id)
            & (PurchaseLine.status != PurchaseLineStatus.cancelled),
        )
        .where(
            PurchaseOrder.source == source,
            PurchaseOrder.status.in_((PurchaseOrderStatus.proposed, PurchaseOrderStatus.approved)),
        )
        .order_by(PurchaseOrder.id, PurchaseLine.line_no)
    ).all()
    orders: dict[str, OwnOrder] = {}
    for order, supplier, line in rows:
        own = orders.setdefault(
            order.number, OwnOrder(order.number, supplier, order.external_ref, order.status, [])
        )
        if line is not None:
            own.lines.append(
                OwnLine(
                    line.line_no, line.item_id, line.quantity, line.quantity_received, line.due_date
                )
            )
    return list(orders.values())


def items_of_orders(session: Session, numbers: set[str]) -> set[int]:
    """The items on the customer, purchase and ship orders with these numbers."""
    if not numbers:
        return set()
    items = set(
        session.scalars(
            select(CustomerLine.item_id)
            .join(CustomerOrder, CustomerOrder.id == CustomerLine.order_id)
            .where(CustomerOrder.number.in_(numbers))
        )
    )
    items |= set(
        session.scalars(
            select(PurchaseLine.item_id)
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseLine.order_id)
            .where(PurchaseOrder.number.in_(numbers))
        )
    )
    items |= set(
        session.scalars(
            select(CustomerLine.item_id)
            .join(ShipLine, ShipLine.customer_line_id == CustomerLine.id)
            .join(ShipOrder, ShipOrder.id == ShipLine.ship_order_id)
            .where(ShipOrder.number.in_(numbers))
        )
    )
    return items


@dataclass(frozen=True, slots=True)
class EventRow:
    """An order event as a reader of the log sees it."""

    id: int
    kind: str
    recorded_at: dt.datetime
    command: dict[str, Any]
    result: dict[str, Any]


def events_after(session: Session, after: int, *, limit: int | None = None) -> list[EventRow]:
    """Order events after the id `after`, oldest first."""
    query = (
        select(
            OrderEvent.id,
            OrderEvent.kind,
            OrderEvent.recorded_at,
            OrderEvent.command,
            OrderEvent.result,
        )
        .where(OrderEvent.id > after)
        .order_by(OrderEvent.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [EventRow(*row) for row in session.execute(query)]


def last_event_id(session: Session) -> int | None:
    """The newest order event's id (a change means something landed)."""
    found: int | None = session.scalar(select(func.max(OrderEvent.id)))
    return found


@dataclass(frozen=True, slots=True)
class ShipOrderRow:
    """A ship order as the distribution centre's waves see it, with its customer."""

    id: int
    number: str
    status: ShipOrderStatus
    customer_order: str
    customer_id: int
    shipped_at: dt.datetime | None
    updated_at: dt.datetime
    site_id: int | None


def _ship_rows(session: Session, *where: Any) -> list[ShipOrderRow]:
    rows = session.execute(
        select(ShipOrder, CustomerOrder.number, CustomerOrder.customer_id)
        .join(CustomerOrder, CustomerOrder.id == ShipOrder.customer_order_id)
        .where(*where)
        .order_by(ShipOrder.id)
    )
    return [
        ShipOrderRow(
            s.id, s.number, s.status, number, customer, s.shipped_at, s.updated_at, s.site_id
        )
        for s, number, customer in rows
    ]


def ship_orders(
    session: Session, *, ids: Iterable[int] | None = None, status: ShipOrderStatus | None = None
) -> list[ShipOrderRow]:
    """Ship orders with these ids (or in this status), oldest first."""
    where: list[Any] = []
    if ids is not None:
        where.append(ShipOrder.id.in_(list(ids)))
    if status is not None:
        where.append(ShipOrder.status == status)
    return _ship_rows(session, *where)


def ship_order_row(session: Session, number: str) -> ShipOrderRow | None:
    """The ship order with this number, if there is one."""
    found = _ship_rows(session, ShipOrder.number == number)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class PickRow:
    """A pick task of a ship order: what to take from which container, and how far it got."""

    item_id: int
    lot_id: int | None
    container_id: int
    quantity: Decimal
    picked_quantity: Decimal
    status: PickStatus
    package_container_id: int | None


def picks_of(
    session: Session, ship_order_id: int, *, status: PickStatus | None = None
) -> list[PickRow]:
    """The pick tasks of a ship order (in one status), in the order they were made."""
    query = (
        select(Pick)
        .join(ShipLine, ShipLine.id == Pick.ship_line_id)
        .where(ShipLine.ship_order_id == ship_order_id)
        .order_by(Pick.id)
    )
    if status is not None:
        query = query.where(Pick.status == status)
    return [
        PickRow(
            p.item_id,
            p.lot_id,
            p.container_id,
            p.quantity,
            p.picked_quantity,
            p.status,
            p.package_container_id,
        )
        for p in session.scalars(query)
    ]
