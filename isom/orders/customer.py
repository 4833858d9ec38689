"""Customer orders: create or update (API, import, webhook), change a line, cancel, views."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import grants
from isom.db import row_view
from isom.errors import Conflict, WrongState
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.masterdata.models import Customer, Item
from isom.orders.book import Book, amend, line_fields, result
from isom.orders.events import run_order_event
from isom.orders.models import (
    OPEN_SHIP_ORDER,
    CustomerLine,
    CustomerLineStatus,
    CustomerOrder,
    CustomerOrderStatus,
    Reservation,
    ReservationStatus,
    ShipLine,
    ShipOrder,
)
from isom.orders.queries import line_reference, newest
from isom.orders.schemas import (
    CancelCustomerOrder,
    ChangeCustomerLine,
    CreateCustomerOrder,
    CustomerLineView,
    CustomerOrderView,
    OrderResult,
)
from isom.orders.states import (
    customer_line_status,
    customer_order_status,
    transition_customer_line,
    transition_customer_order,
    transition_reservation,
)
from isom.types import utcnow

Actor = ledger.Actor
CLOSED_ORDER = (CustomerOrderStatus.shipped, CustomerOrderStatus.cancelled)


# ---------------------------------------------------------------------------------------------
# Look-ups.


def get_customer_order(session: Session, number: str, *, lock: bool = False) -> CustomerOrder:
    """The customer order with this number (locked when `lock`), or 404."""
    return BOOK.get(session, number, lock=lock)


def lines_of(session: Session, order: CustomerOrder) -> list[CustomerLine]:
    """The order's lines by line number."""
    return BOOK.lines(session, order)


def get_line(session: Session, order: CustomerOrder, line_no: int) -> CustomerLine:
    """One line of a customer order, or 404."""
    return BOOK.get_line(session, order, line_no)


def roll_up(session: Session, order: CustomerOrder, actor: Actor, at: dt.datetime) -> None:
    """Bring each line's and then the order's status in line with the quantities."""
    lines = lines_of(session, order)
    for line in lines:
        transition_customer_line(
            line, customer_line_status(line), at=at, name=line_reference(order.number, line.line_no)
        )
        line.updated_at = at  # planning re-reads the items of lines stamped since its cursor
    transition_customer_order(order, customer_order_status(lines), actor=actor, at=at)
    order.updated_at = at
    order.updated_by = actor.name


def _check_quantity(session: Session, item: Item, quantity: Decimal, field: str) -> None:
    md.to_base_quantity(session, item, quantity, None, field=field)


def _on_open_ship_order(session: Session, line: CustomerLine) -> str | None:
    return session.scalar(
        select(ShipOrder.number)
        .join(ShipLine, ShipLine.ship_order_id == ShipOrder.id)
        .where(ShipLine.customer_line_id == line.id, ShipOrder.status.in_(OPEN_SHIP_ORDER))
    )


# ---------------------------------------------------------------------------------------------
# Create or update.


def _find_existing(session: Session, cmd: CreateCustomerOrder) -> CustomerOrder | None:
    found = BOOK.find(session, cmd, taken=Conflict)
    if (
        found is not None
        and cmd.external_ref is not None
        and found.external_ref is not None
        and (found.source, found.external_ref) != (cmd.source, cmd.external_ref)
    ):
        raise Conflict(
            f"customer order {found.number} is {found.source} "
            f"{found.external_ref!r}, not {cmd.source} {cmd.external_ref!r}",
            field="external_ref",
            expected="the external reference the order was created with",
        )
    return found


def upsert_customer_order(
    session: Session, actor: Actor, cmd: CreateCustomerOrder
) -> tuple[CustomerOrder, bool, bool]:
    """Create the order, or update the one with this number or external reference.

    An update changes the header and the lines it names (by line number, or by position);
    lines it leaves out stay as they are. Returns (order, created, changed).
    """
    customer = md.get_customer(session, cmd.customer)
    if not customer.active:
        raise WrongState(
            f"customer {customer.code} is inactive", field="customer", expected="an active customer"
        )
    items = [
        md.get_item(session, line.item, field=f"lines[{i}].item")
        for i, line in enumerate(cmd.lines)
    ]
    for i, (given, item) in enumerate(zip(cmd.lines, items, strict=True)):
        _check_quantity(session, item, given.quantity, f"lines[{i}].quantity")
    now = utcnow()
    order, created, existing, changed = _open_order(session, actor, customer, cmd, now)
    changed = _apply_lines(session, order, existing, cmd, items, created, now) or changed
    session.flush()
    roll_up(session, order, actor, now)
    session.flush()
    return order, created, changed


def _open_order(
    session: Session, actor: Actor, customer: Customer, cmd: CreateCustomerOrder, now: dt.datetime
) -> tuple[CustomerOrder, bool, dict[int, CustomerLine], bool]:
    """The order the command names with its header updated, or a new open one: (order,
    created, its lines by number, whether the header changed)."""
    order = _find_existing(session, cmd)
    created = order is None
    site_id = grants.held_site(session, cmd.site) if cmd.site else None
    if order is None:
        # Without a site named, the column's default: the caller's site, or the first.
        site = {"site_id": site_id} if site_id is not None else {}
        order = BOOK.new(
            session, cmd, actor, now, customer_id=customer.id, priority=cmd.priority,
            allow_partial=cmd.allow_partial,
            ship_to=cmd.ship_to if cmd.ship_to is not None else customer.ship_to,
            status=CustomerOrderStatus.open, **site,
        )  # fmt: skip
        existing: dict[int, CustomerLine] = {}
        changed = True
    else:
        if order.customer_id != customer.id:
            raise Conflict(
                f"customer order {order.number} belongs to another customer",
                field="customer",
                expected="the customer the order was created for",
            )
        if site_id is not None and order.site_id != site_id:
            raise Conflict(
                f"customer order {order.number} is served by another site",
                field="site",
                expected="the site the order was created for",
            )
        existing = {line.line_no: line for line in lines_of(session, order)}
        ship_to = cmd.ship_to if cmd.ship_to is not None else order.ship_to
        header = (cmd.priority, cmd.allow_partial, ship_to, cmd.note)
        changed = header != (order.priority, order.allow_partial, order.ship_to, order.note)
        if changed and order.status in CLOSED_ORDER:
            raise WrongState(
                f"customer order {order.number} is {order.status.value}; it cannot change",
                field="order",
                expected="an order that is not shipped or cancelled",
            )
        order.priority, order.allow_partial, order.ship_to, order.note = header
    return order, created, existing, changed


def _apply_lines(
    session: Session,
    order: CustomerOrder,
    existing: dict[int, CustomerLine],
    cmd: CreateCustomerOrder,
    items: list[Item],
    created: bool,
    now: dt.datetime,
) -> bool:
    """Add the new lines and change the named ones; whether any line changed."""

    def add(i: int, line_no: int) -> CustomerLine:
        given = cmd.lines[i]
        return CustomerLine(
            order_id=order.id,
            line_no=line_no,
            item_id=items[i].id,
            quantity=given.quantity,
            due_date=given.due_date,
            status=CustomerLineStatus.open,
            quantity_reserved=Decimal(0),
            quantity_shipped=Decimal(0),
            updated_at=now,
        )

    def change(i: int, line: CustomerLine) -> bool:
        given = cmd.lines[i]
        if (line.quantity, line.due_date) == (given.quantity, given.due_date):
            return False
        _change_line(session, order, line, given.quantity, given.due_date, f"lines[{i}]")
        return True

    closed = "an order that is not shipped or cancelled" if order.status in CLOSED_ORDER else None
    return BOOK.apply_lines(
        session, order, existing, cmd.lines, items, created=created, closed=closed, add=add,
        change=change,
    )  # fmt: skip


def _change_line(
    session: Session,
    order: CustomerOrder,
    line: CustomerLine,
    quantity: Decimal | None,
    due_date: dt.date | None,
    field: str,
) -> None:
    name = line_reference(order.number, line.line_no)
    if line.status in (CustomerLineStatus.shipped, CustomerLineStatus.cancelled):
        raise WrongState(
            f"customer line {name} is {line.status.value}; it cannot change",
            field=field,
            expected="a line that is open, reserved or partly shipped",
        )
    held = line.quantity_shipped + line.quantity_reserved
    amend(
        line,
        quantity,
        due_date,
        floor=held if quantity != line.quantity else Decimal(0),  # the same quantity stands
        name=f"customer line {name}",
        held=f"{line.quantity_shipped} shipped and {line.quantity_reserved} reserved",
        field=field,
        expected=f"at least {held}, or unreserve first",
    )


BOOK = Book(
    CustomerOrder, CustomerLine, "customer order", "SO", "customer_order", _change_line, roll_up
)


def create_customer_order(
    session: Session, actor: Actor, key: str, cmd: CreateCustomerOrder
) -> OrderResult:
    """Take in a customer order, or update the one with the same number or external ref."""
    return BOOK.create(session, actor, key, cmd, upsert_customer_order)


def change_customer_line(
    session: Session, actor: Actor, key: str, cmd: ChangeCustomerLine
) -> OrderResult:
    """Change the quantity or due date of a customer line that has not shipped in full."""
    return BOOK.change_line(session, actor, key, cmd)


def _cancel_line(
    session: Session, order: CustomerOrder, line: CustomerLine, at: dt.datetime
) -> Decimal:
    name = line_reference(order.number, line.line_no)
    if (
        line.quantity_shipped > 0
        or line.status is not CustomerLineStatus.open
        and (line.status is not CustomerLineStatus.reserved)
    ):
        raise WrongState(
            f"customer line {name} is {line.status.value}; only open or reserved lines cancel",
            field="line_no",
            expected="a line with nothing shipped; lower the quantity of a partly shipped line",
        )
    ship_number = _on_open_ship_order(session, line)
    if ship_number is not None:
        raise Conflict(
            f"customer line {name} is on ship order {ship_number}; cancel that first",
            field="line_no",
            expected="a line on no open ship order",
        )
    released = Decimal(0)
    for res in session.scalars(
        select(Reservation).where(
            Reservation.customer_line_id == line.id,
            Reservation.status == ReservationStatus.active,
        )
    ):
        transition_reservation(res, ReservationStatus.released)
        released += res.quantity
    line.quantity_reserved = Decimal(0)
    transition_customer_line(line, CustomerLineStatus.cancelled, at=at, name=name)
    return released


def cancel_customer_order(
    session: Session, actor: Actor, key: str, cmd: CancelCustomerOrder
) -> OrderResult:
    """Cancel one line, or every line of an order with nothing shipped; reservations go back."""

    def build(session: Session, actor: Actor, key: str, cmd: CancelCustomerOrder) -> OrderResult:
        order = get_customer_order(session, cmd.order, lock=True)
        now = utcnow()
        if cmd.line_no is not None:
            lines = [get_line(session, order, cmd.line_no)]
        else:
            if order.status in CLOSED_ORDER or order.status is CustomerOrderStatus.partly_shipped:
                raise WrongState(
                    f"customer order {order.number} is {order.status.value}; it cannot be "
                    "cancelled",
                    field="order",
                    expected="an open or reserved order; cancel the open lines one by one",
                )
            lines = [
                line
                for line in lines_of(session, order)
                if line.status is not CustomerLineStatus.cancelled
            ]
        released = sum((_cancel_line(session, order, line, now) for line in lines), Decimal(0))
        session.flush()
        roll_up(session, order, actor, now)
        if order.status is CustomerOrderStatus.cancelled or cmd.line_no is None:
            order.note = (order.note + f"\ncancelled: {cmd.reason}").strip()[:1000]
        return result(
            order,
            cancelled_lines=[line.line_no for line in lines],
            released_reservations=str(released),
            reason=cmd.reason,
        )

    return run_order_event(session, actor, key, "customer_order.cancel", cmd, build)


# ---------------------------------------------------------------------------------------------
# Views.


def customer_order_view(session: Session, number: str) -> CustomerOrderView:
    """The order with its lines and their progress."""
    order, lines, codes = BOOK.shown(session, number)
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    return row_view(
        CustomerOrderView,
        order,
        status=order.status.value,
        customer=customer.code,
        priority=order.priority.value,
        lines=[
            row_view(
                CustomerLineView,
                line,
                **line_fields(order, line, codes),
                quantity_open=(
                    Decimal(0)
                    if line.status is CustomerLineStatus.cancelled
                    else line.quantity - line.quantity_shipped
                ),
            )
            for line in lines
        ],
    )


def list_customer_orders(
    session: Session, *, status: CustomerOrderStatus | None = None, limit: int = 100
) -> list[CustomerOrderView]:
    """The newest customer orders, optionally of one status."""
    numbers = newest(session, CustomerOrder, status, limit)
    return [customer_order_view(session, number) for number in numbers]
