"""Shipping a packed ship order: the ledger's ship events, lines and reservations settled."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import copy_row
from isom.errors import Conflict
from isom.ledger import services as ledger
from isom.ledger.schemas import ShipCommand
from isom.masterdata.models import Customer
from isom.orders.book import result
from isom.orders.customer import roll_up
from isom.orders.events import run_order_event
from isom.orders.models import (
    CustomerLine,
    CustomerOrder,
    Pick,
    PickStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
    ShipOrderStatus,
)
from isom.orders.schemas import (
    OrderResult,
    ShipShipOrder,
)
from isom.orders.shipping.common import _code, _open_ship, _picks, _ship_lines
from isom.orders.states import transition_pick, transition_reservation, transition_ship_order
from isom.types import utcnow

Actor = ledger.Actor


def ship(session: Session, actor: Actor, key: str, cmd: ShipShipOrder) -> OrderResult:
    """Ship every packed shipping container (ledger ship): the goods leave inventory.

    Everything picked must be packed. An order that does not allow partial shipments ships
    only when every line is picked in full; otherwise what is picked ships and the rest of the
    pick list is cancelled.
    """
    return run_order_event(session, actor, key, "ship_order.ship", cmd, _ship)


def _ship(session: Session, actor: Actor, key: str, cmd: ShipShipOrder) -> OrderResult:
    ship_order = _open_ship(session, cmd.ship_order)
    order = session.get(CustomerOrder, ship_order.customer_order_id)
    assert order is not None
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    picks = _picks(session, ship_order)
    ship_lines = _ship_lines(session, ship_order)
    packed = _ready_to_ship(session, ship_order, order, picks, ship_lines)
    packages = sorted({p.package_container_id for p in packed if p.package_container_id})
    shipped_events = []
    for i, package_id in enumerate(packages):
        shipped = ledger.ship(
            session,
            actor,
            f"{key}/ship/{i}",
            ShipCommand(
                occurred_at=cmd.occurred_at,
                container=_code(session, package_id),
                customer=customer.code,
                reference=cmd.reference or ship_order.number,
            ),
        )
        shipped_events.append(shipped.event_id)
    now = utcnow()
    _settle_picks(session, picks, ship_lines)
    transition_ship_order(ship_order, ShipOrderStatus.shipped, actor=actor, at=now)
    session.flush()
    roll_up(session, order, actor, now)
    return result(
        ship_order,
        customer_order=order.number,
        customer_order_status=order.status.value,
        packages=[_code(session, pid) for pid in packages],
        ledger_events=shipped_events,
        lines=[
            {
                "line_no": session.get(CustomerLine, sl.customer_line_id).line_no,  # type: ignore[union-attr]
                "quantity": str(sl.quantity),
                "shipped": str(sl.quantity_shipped),
            }
            for sl in ship_lines
        ],
    )


def _ready_to_ship(
    session: Session,
    ship_order: ShipOrder,
    order: CustomerOrder,
    picks: list[Pick],
    ship_lines: list[ShipLine],
) -> list[Pick]:
    """The packed picks, refused while anything picked is unpacked, nothing is packed, or an
    order that ships whole is short."""
    unpacked = [p for p in picks if p.status is PickStatus.picked]
    if unpacked:
        codes = sorted({_code(session, p.picked_container_id) for p in unpacked})
        raise Conflict(
            f"picked containers are not packed yet: {', '.join(codes)}",
            field="ship_order",
            expected="every picked container packed into a shipping container",
        )
    packed = [p for p in picks if p.status is PickStatus.packed]
    if not packed:
        raise Conflict(
            f"ship order {ship_order.number} has nothing packed",
            field="ship_order",
            expected="a ship order with packed shipping containers",
        )
    if not order.allow_partial:
        short = [sl for sl in ship_lines if sl.quantity_picked < sl.quantity]
        if short:
            raise Conflict(
                f"customer order {order.number} does not allow partial shipments and "
                f"{len(short)} line(s) are not picked in full",
                field="ship_order",
                expected="every line picked in full",
            )
    return packed


def _settle_picks(session: Session, picks: list[Pick], ship_lines: list[ShipLine]) -> None:
    """Packed picks become shipped (with their lines and reservations); open ones cancelled."""
    by_line = {sl.id: sl for sl in ship_lines}
    for p in picks:
        if p.status is PickStatus.open:
            transition_pick(p, PickStatus.cancelled)
            continue
        if p.status is not PickStatus.packed:
            continue
        transition_pick(p, PickStatus.shipped)
        sl = by_line[p.ship_line_id]
        sl.quantity_shipped += p.picked_quantity
        line = session.get(CustomerLine, sl.customer_line_id)
        assert line is not None and p.picked_container_id is not None
        _ship_reservation(session, line, p)
        line.quantity_shipped += p.picked_quantity


def _ship_reservation(session: Session, line: CustomerLine, p: Pick) -> None:
    """The picked container's reservation for the line becomes shipped."""
    left = p.picked_quantity
    for res in session.scalars(
        select(Reservation)
        .where(
            Reservation.customer_line_id == line.id,
            Reservation.container_id == p.picked_container_id,
            Reservation.item_id == p.item_id,
            Reservation.status == ReservationStatus.active,
        )
        .order_by(Reservation.id)
    ):
        if left <= 0:
            break
        taken = min(left, res.quantity)
        if taken < res.quantity:
            res.quantity -= taken
            session.add(copy_row(res, quantity=taken, status=ReservationStatus.shipped))
        else:
            transition_reservation(res, ReservationStatus.shipped)
        line.quantity_reserved -= taken
        left -= taken
