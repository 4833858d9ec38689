"""The order state machines: transition tables, the one function applying each, and roll-ups.

A line's status follows from its quantities (reserved, shipped, received); an order's status
follows from its lines. `roll_up_*` work out the status the numbers call for and apply it
through the transition table, so a move the table does not allow is a bug caught loudly.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, TypeVar

from isom.ledger import services as ledger
from isom.orders.models import (
    CustomerLine,
    CustomerLineStatus,
    CustomerOrder,
    CustomerOrderStatus,
    Pick,
    PickStatus,
    PurchaseLine,
    PurchaseLineStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
    Reservation,
    ReservationStatus,
    ShipOrder,
    ShipOrderStatus,
)
from isom.transitions import move

Actor = ledger.Actor
S = TypeVar("S", bound=enum.Enum)

_CO = CustomerOrderStatus
_CL = CustomerLineStatus
_PO = PurchaseOrderStatus
_PL = PurchaseLineStatus
_SH = ShipOrderStatus

CUSTOMER_ORDER_TRANSITIONS: dict[CustomerOrderStatus, frozenset[CustomerOrderStatus]] = {
    _CO.open: frozenset({_CO.reserved, _CO.partly_shipped, _CO.shipped, _CO.cancelled}),
    _CO.reserved: frozenset({_CO.open, _CO.partly_shipped, _CO.shipped, _CO.cancelled}),
    _CO.partly_shipped: frozenset({_CO.shipped}),
    _CO.shipped: frozenset(),
    _CO.cancelled: frozenset(),
}

CUSTOMER_LINE_TRANSITIONS: dict[CustomerLineStatus, frozenset[CustomerLineStatus]] = {
    _CL.open: frozenset({_CL.reserved, _CL.partly_shipped, _CL.shipped, _CL.cancelled}),
    _CL.reserved: frozenset({_CL.open, _CL.partly_shipped, _CL.shipped, _CL.cancelled}),
    _CL.partly_shipped: frozenset({_CL.shipped}),
    _CL.shipped: frozenset(),
    _CL.cancelled: frozenset(),
}

PURCHASE_ORDER_TRANSITIONS: dict[PurchaseOrderStatus, frozenset[PurchaseOrderStatus]] = {
    _PO.proposed: frozenset({_PO.approved, _PO.cancelled}),
    _PO.approved: frozenset({_PO.sent, _PO.partly_received, _PO.received, _PO.cancelled}),
    _PO.sent: frozenset({_PO.partly_received, _PO.received, _PO.cancelled, _PO.closed}),
    _PO.partly_received: frozenset({_PO.received, _PO.closed}),
    _PO.received: frozenset({_PO.closed}),
    _PO.cancelled: frozenset(),
    _PO.closed: frozenset(),
}

PURCHASE_LINE_TRANSITIONS: dict[PurchaseLineStatus, frozenset[PurchaseLineStatus]] = {
    _PL.open: frozenset({_PL.partly_received, _PL.received, _PL.cancelled, _PL.closed}),
    _PL.partly_received: frozenset({_PL.received, _PL.closed}),
    _PL.received: frozenset({_PL.closed}),
    _PL.cancelled: frozenset(),
    _PL.closed: frozenset(),
}

SHIP_ORDER_TRANSITIONS: dict[ShipOrderStatus, frozenset[ShipOrderStatus]] = {
    _SH.planned: frozenset({_SH.picking, _SH.picked, _SH.cancelled}),
    _SH.picking: frozenset({_SH.picked, _SH.packed, _SH.shipped, _SH.cancelled}),
    _SH.picked: frozenset({_SH.packed, _SH.cancelled}),
    _SH.packed: frozenset({_SH.shipped, _SH.cancelled}),
    _SH.shipped: frozenset(),
    _SH.cancelled: frozenset(),
}


PICK_TRANSITIONS: dict[PickStatus, frozenset[PickStatus]] = {
    PickStatus.open: frozenset({PickStatus.picked, PickStatus.cancelled}),
    PickStatus.picked: frozenset({PickStatus.packed}),
    PickStatus.packed: frozenset({PickStatus.shipped}),
    PickStatus.shipped: frozenset(),
    PickStatus.cancelled: frozenset(),
}

RESERVATION_TRANSITIONS: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    ReservationStatus.active: frozenset({ReservationStatus.shipped, ReservationStatus.released}),
    ReservationStatus.shipped: frozenset(),
    ReservationStatus.released: frozenset(),
}


def _check(record: Any, table: dict[S, frozenset[S]], to: S, what: str, field: str) -> None:
    move(record, table, to, what=what, kind=what.rsplit(" ", 1)[0], field=field)


def transition_pick(pick: Pick, to: PickStatus) -> None:
    """Move a pick task to `to` if its table allows it."""
    _check(pick, PICK_TRANSITIONS, to, f"pick task {pick.id}", "pick")


def transition_reservation(reservation: Reservation, to: ReservationStatus) -> None:
    """Move a reservation to `to` (shipped or released) if its table allows it."""
    what = f"reservation {reservation.id}"
    _check(reservation, RESERVATION_TRANSITIONS, to, what, "reservation")


def _move(
    record: Any,
    table: dict[S, frozenset[S]],
    to: S,
    what: str,
    field: str,
    *,
    at: dt.datetime,
    actor: Actor | None = None,
) -> bool:
    """Move `record` to `to` if its table allows it, recording when (and who); False when it
    is there already."""
    if record.status is to:
        return False
    _check(record, table, to, what, field)
    record.updated_at = at
    if actor is not None:
        record.updated_by = actor.name
    return True


def transition_customer_order(
    order: CustomerOrder, to: CustomerOrderStatus, *, actor: Actor, at: dt.datetime
) -> None:
    """Move a customer order to `to` if its table allows it, recording who and when."""
    what = f"customer order {order.number}"
    _move(order, CUSTOMER_ORDER_TRANSITIONS, to, what, "order", at=at, actor=actor)


def transition_customer_line(
    line: CustomerLine, to: CustomerLineStatus, *, at: dt.datetime, name: str
) -> None:
    """Move a customer line to `to` if its table allows it."""
    _move(line, CUSTOMER_LINE_TRANSITIONS, to, f"customer line {name}", "line_no", at=at)


def transition_purchase_order(
    order: PurchaseOrder, to: PurchaseOrderStatus, *, actor: Actor, at: dt.datetime
) -> None:
    """Move a purchase order to `to` if its table allows it, recording who and when."""
    what = f"purchase order {order.number}"
    if not _move(order, PURCHASE_ORDER_TRANSITIONS, to, what, "order", at=at, actor=actor):
        return
    if to is PurchaseOrderStatus.approved:
        order.approved_at = at
        order.approved_by = actor.name
    elif to is PurchaseOrderStatus.sent:
        order.sent_at = at


def transition_purchase_line(
    line: PurchaseLine, to: PurchaseLineStatus, *, at: dt.datetime, name: str
) -> None:
    """Move a purchase line to `to` if its table allows it."""
    _move(line, PURCHASE_LINE_TRANSITIONS, to, f"purchase line {name}", "line_no", at=at)


def transition_ship_order(
    ship: ShipOrder, to: ShipOrderStatus, *, actor: Actor, at: dt.datetime
) -> None:
    """Move a ship order to `to` if its table allows it, recording who and when."""
    what = f"ship order {ship.number}"
    if _move(ship, SHIP_ORDER_TRANSITIONS, to, what, "ship_order", at=at, actor=actor):
        if to is ShipOrderStatus.shipped:
            ship.shipped_at = at


# ---------------------------------------------------------------------------------------------
# Roll-ups: the status the quantities call for.


def customer_line_status(line: CustomerLine) -> CustomerLineStatus:
    """Shipped, partly shipped, reserved (all that is still open is set aside) or open."""
    if line.status is CustomerLineStatus.cancelled:
        return line.status
    if line.quantity_shipped >= line.quantity:
        return CustomerLineStatus.shipped
    if line.quantity_shipped > 0:
        return CustomerLineStatus.partly_shipped
    if line.quantity_reserved >= line.quantity:
        return CustomerLineStatus.reserved
    return CustomerLineStatus.open


def customer_order_status(lines: list[CustomerLine]) -> CustomerOrderStatus:
    """What the lines add up to; cancelled lines count for nothing unless all are cancelled."""
    live = [line for line in lines if line.status is not CustomerLineStatus.cancelled]
    if not live:
        return CustomerOrderStatus.cancelled
    if all(line.status is CustomerLineStatus.shipped for line in live):
        return CustomerOrderStatus.shipped
    if any(line.quantity_shipped > 0 for line in live):
        return CustomerOrderStatus.partly_shipped
    if all(line.status is CustomerLineStatus.reserved for line in live):
        return CustomerOrderStatus.reserved
    return CustomerOrderStatus.open


def purchase_line_status(line: PurchaseLine, *, under_percent: Decimal) -> PurchaseLineStatus:
    """Received once within the under-tolerance of the ordered quantity, else partly or open."""
    if line.status in (PurchaseLineStatus.cancelled, PurchaseLineStatus.closed):
        return line.status
    enough = line.quantity * (1 - under_percent / 100)
    if line.quantity_received >= enough:
        return PurchaseLineStatus.received
    if line.quantity_received > 0:
        return PurchaseLineStatus.partly_received
    return PurchaseLineStatus.open


def purchase_order_status(order: PurchaseOrder, lines: list[PurchaseLine]) -> PurchaseOrderStatus:
    """Received when every live line is, partly received when something arrived."""
    live = [line for line in lines if line.status is not PurchaseLineStatus.cancelled]
    if not live or order.status in (
        PurchaseOrderStatus.proposed,
        PurchaseOrderStatus.cancelled,
        PurchaseOrderStatus.closed,
    ):
        return order.status
    if all(
        line.status in (PurchaseLineStatus.received, PurchaseLineStatus.closed) for line in live
    ):
        if any(line.quantity_received > 0 for line in live):
            return PurchaseOrderStatus.received
    if any(line.quantity_received > 0 for line in live):
        return PurchaseOrderStatus.partly_received
    return order.status
