"""Making a ship order from a customer order's released lines, with its pick list; cancelling."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import AlreadyExists, Conflict, InsufficientStock, NotFound, WrongState
from isom.ledger import services as ledger
from isom.masterdata.models import Item
from isom.orders.book import result
from isom.orders.customer import get_customer_order, lines_of, roll_up
from isom.orders.events import next_number, run_order_event
from isom.orders.models import (
    CustomerLine,
    CustomerOrder,
    CustomerOrderStatus,
    Pick,
    PickStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
    ShipOrderStatus,
)
from isom.orders.queries import released_for_shipping
from isom.orders.reservations import (
    LIVE_LINE,
    ZERO,
    Stock,
    add_reservation,
    allocate,
    check_live_line,
    picked_for,
    stock_of,
)
from isom.orders.schemas import (
    CancelShipOrder,
    CreateShipOrder,
    OrderResult,
    ShipLineIn,
)
from isom.orders.shipping.common import _open_ship, _picks
from isom.orders.states import transition_pick, transition_ship_order
from isom.types import utcnow

Actor = ledger.Actor


def _on_open_ship_orders(session: Session, line: CustomerLine) -> Decimal:
    """How much of a line open ship orders already release (not yet shipped)."""
    return released_for_shipping(session, [line.id]).get(line.id, ZERO)


def _fresh_ship_number(session: Session) -> str:
    while True:
        number = next_number(session, "SH")
        if session.scalar(select(ShipOrder.id).where(ShipOrder.number == number)) is None:
            return number


def _line_stock(
    session: Session, line: CustomerLine, item: Item
) -> tuple[list[Stock], list[Stock]]:
    """The stock the line has reserved and not yet picked, and the free stock of its item."""
    own: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    for res in session.scalars(
        select(Reservation).where(
            Reservation.customer_line_id == line.id,
            Reservation.status == ReservationStatus.active,
        )
    ):
        if picked_for(session, res.container_id) is None:
            own[(res.container_id, res.lot_id)] += res.quantity
    free = stock_of(session, item, lock=True)
    reserved = [
        Stock(**{**s.__dict__, "free": min(own[(s.container_id, s.lot_id)], s.quantity)})
        for s in free
        if (s.container_id, s.lot_id) in own
    ]
    return reserved, free


def _make_picks(
    session: Session,
    actor: Actor,
    ship_line: ShipLine,
    line: CustomerLine,
    item: Item,
    seq: int,
) -> tuple[int, Decimal]:
    """Add the pick tasks for one ship line; free stock they take is reserved for the line."""
    own_stock, free_stock = _line_stock(session, line, item)
    planned = ZERO
    now = utcnow()
    for pool in (own_stock, free_stock):
        for s, qty in allocate(pool, ship_line.quantity - planned):
            seq += 1
            session.add(
                Pick(
                    ship_line_id=ship_line.id,
                    sequence=seq,
                    container_id=s.container_id,
                    item_id=s.item_id,
                    lot_id=s.lot_id,
                    quantity=qty,
                    whole_container=s.whole and qty == s.quantity,
                    status=PickStatus.open,
                    picked_quantity=ZERO,
                )
            )
            planned += qty
            if pool is free_stock:
                add_reservation(session, line, s, qty, actor, now)
        if planned >= ship_line.quantity:
            break
    return seq, planned


def create_ship_order(
    session: Session, actor: Actor, key: str, cmd: CreateShipOrder
) -> OrderResult:
    """Release a customer order (or part of it) for shipping and make its pick list.

    The pick list takes the line's reserved stock first, then free stock first-expiry-first-out
    (whole containers preferred), and reserves what it takes. An order that does not allow
    partial shipments must be released whole, with enough stock.
    """

    return run_order_event(session, actor, key, "ship_order.create", cmd, _create_ship_order)


def _create_ship_order(
    session: Session, actor: Actor, key: str, cmd: CreateShipOrder
) -> OrderResult:
    order = get_customer_order(session, cmd.order, lock=True)
    if order.status in (CustomerOrderStatus.shipped, CustomerOrderStatus.cancelled):
        raise WrongState(
            f"customer order {order.number} is {order.status.value}",
            field="order",
            expected="an order with open lines",
        )
    lines = {line.line_no: line for line in lines_of(session, order)}
    wanted = _wanted_lines(session, order, lines, cmd)
    now = utcnow()
    ship = ShipOrder(
        number=cmd.number or _fresh_ship_number(session),
        customer_order_id=order.id,
        site_id=order.site_id,
        status=ShipOrderStatus.planned,
        ship_to=order.ship_to,
        created_at=now,
        updated_at=now,
        updated_by=actor.name,
    )
    if session.scalar(select(ShipOrder.id).where(ShipOrder.number == ship.number)):
        raise AlreadyExists(
            f"ship order {ship.number} exists already", field="number", expected="a new number"
        )
    session.add(ship)
    session.flush()
    seq = 0
    short: dict[str, str] = {}
    for line, qty in wanted:
        item = session.get(Item, line.item_id)
        assert item is not None
        ship_line = ShipLine(
            ship_order_id=ship.id,
            customer_line_id=line.id,
            quantity=qty,
            quantity_picked=ZERO,
            quantity_shipped=ZERO,
        )
        session.add(ship_line)
        session.flush()
        seq, planned = _make_picks(session, actor, ship_line, line, item, seq)
        if planned < qty:
            short[str(line.line_no)] = str(qty - planned)
    if seq == 0:
        raise InsufficientStock(
            f"no free stock for any line of {order.number}",
            field="order",
            expected="stock that is available, not held and not reserved for others",
        )
    if not order.allow_partial:
        _check_whole(order, lines, wanted, short)
    session.flush()
    roll_up(session, order, actor, now)
    return result(ship, customer_order=order.number, short=short, picks=seq)


def _wanted_lines(
    session: Session,
    order: CustomerOrder,
    lines: dict[int, CustomerLine],
    cmd: CreateShipOrder,
) -> list[tuple[CustomerLine, Decimal]]:
    """The lines to release and how much of each (all that is open, unless the command says)."""
    wanted: list[tuple[CustomerLine, Decimal]] = []
    requests = cmd.lines or [
        ShipLineIn(line_no=n) for n, line in lines.items() if line.status in LIVE_LINE
    ]
    for i, req in enumerate(requests):
        line = lines.get(req.line_no)
        if line is None:
            raise NotFound(
                f"customer order {order.number} has no line {req.line_no}",
                field=f"lines[{i}].line_no",
                expected="the number of one of the order's lines",
            )
        check_live_line(order, line)
        open_qty = line.quantity - line.quantity_shipped - _on_open_ship_orders(session, line)
        qty = req.quantity if req.quantity is not None else open_qty
        if qty <= 0 or qty > open_qty:
            raise Conflict(
                f"line {line.line_no} has {max(open_qty, ZERO)} not yet released for shipping",
                field=f"lines[{i}].quantity",
                expected=f"at most {max(open_qty, ZERO)}",
            )
        wanted.append((line, qty))
    if not wanted:
        raise Conflict(
            f"customer order {order.number} has nothing left to release",
            field="order",
            expected="an order with open quantity not on another ship order",
        )
    return wanted


def _check_whole(
    order: CustomerOrder,
    lines: dict[int, CustomerLine],
    wanted: list[tuple[CustomerLine, Decimal]],
    short: dict[str, str],
) -> None:
    """An order that ships whole is released whole, with stock for every line."""
    live = [x for x in lines.values() if x.status in LIVE_LINE]
    released_all = all(line.quantity - line.quantity_shipped == qty for line, qty in wanted)
    whole = released_all and len(wanted) == len(live)
    if not whole or short:
        raise Conflict(
            f"customer order {order.number} does not allow partial shipments"
            + (f"; stock is short for lines {', '.join(short)}" if short else ""),
            field="lines" if not whole else "order",
            expected="the whole open order, with enough free stock",
        )


def cancel_ship_order(
    session: Session, actor: Actor, key: str, cmd: CancelShipOrder
) -> OrderResult:
    """Cancel a ship order that has not shipped; picked goods stay reserved for their lines."""

    def build(session: Session, actor: Actor, key: str, cmd: CancelShipOrder) -> OrderResult:
        ship_order = _open_ship(session, cmd.ship_order)
        now = utcnow()
        for p in _picks(session, ship_order):
            if p.status is PickStatus.open:
                transition_pick(p, PickStatus.cancelled)
        transition_ship_order(ship_order, ShipOrderStatus.cancelled, actor=actor, at=now)
        order = session.get(CustomerOrder, ship_order.customer_order_id)
        assert order is not None
        session.flush()
        roll_up(session, order, actor, now)
        return result(ship_order, reason=cmd.reason)

    return run_order_event(session, actor, key, "ship_order.cancel", cmd, build)
