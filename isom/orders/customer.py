"""Customer orders: create or update (API, import, webhook), change a line, cancel, views."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import grants
from isom.errors import Conflict, WrongState
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.masterdata.models import Customer, Item
from isom.orders.events import next_number, run_order_event
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
from isom.orders.queries import line_reference, newest, order_by_number, order_line, order_lines
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
    return order_by_number(session, CustomerOrder, number, what="customer order", lock=lock)


def lines_of(session: Session, order: CustomerOrder) -> list[CustomerLine]:
    """The order's lines by line number."""
    return order_lines(session, CustomerLine, order.id)


def get_line(session: Session, order: CustomerOrder, line_no: int) -> CustomerLine:
    """One line of a customer order, or 404."""
    return order_line(
        session, CustomerLine, order.id, line_no, what=f"customer order {order.number}"
    )


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
    if cmd.number is not None:
        found = session.scalar(
            select(CustomerOrder).where(CustomerOrder.number == cmd.number).with_for_update()
        )
        if found is not None:
            if cmd.external_ref is not None and (
                found.source != cmd.source or found.external_ref != cmd.external_ref
            ):
                if found.external_ref is not None:
                    raise Conflict(
                        f"customer order {found.number} is {found.source} "
                        f"{found.external_ref!r}, not {cmd.source} {cmd.external_ref!r}",
                        field="external_ref",
                        expected="the external reference the order was created with",
                    )
            return found
    if cmd.external_ref is not None:
        found = session.scalar(
            select(CustomerOrder)
            .where(
                CustomerOrder.source == cmd.source, CustomerOrder.external_ref == cmd.external_ref
            )
            .with_for_update()
        )
        if found is not None and cmd.number is not None:
            raise Conflict(
                f"{cmd.source} {cmd.external_ref!r} is customer order {found.number} already",
                field="number",
                expected=f"{found.number}, or no number",
            )
        return found
    return None


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
        number = cmd.number or _fresh_number(session)
        order = CustomerOrder(
            number=number,
            customer_id=customer.id,
            source=cmd.source,
            external_ref=cmd.external_ref,
            priority=cmd.priority,
            allow_partial=cmd.allow_partial,
            ship_to=cmd.ship_to if cmd.ship_to is not None else customer.ship_to,
            status=CustomerOrderStatus.open,
            note=cmd.note,
            created_at=now,
            updated_at=now,
            updated_by=actor.name,
        )
        if site_id is not None:  # else the column's default: the caller's site, or the first
            order.site_id = site_id
        session.add(order)
        session.flush()
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
    changed = False
    next_no = max(existing, default=0) + 1
    for i, (line_in, item) in enumerate(zip(cmd.lines, items, strict=True)):
        line_no = line_in.line_no or (i + 1 if not created and i + 1 in existing else next_no)
        line = existing.get(line_no)
        if line is None:
            if order.status in CLOSED_ORDER:
                raise WrongState(
                    f"customer order {order.number} is {order.status.value}; no lines can be added",
                    field=f"lines[{i}]",
                    expected="an order that is not shipped or cancelled",
                )
            line = CustomerLine(
                order_id=order.id,
                line_no=line_no,
                item_id=item.id,
                quantity=line_in.quantity,
                due_date=line_in.due_date,
                status=CustomerLineStatus.open,
                quantity_reserved=Decimal(0),
                quantity_shipped=Decimal(0),
                updated_at=now,
            )
            session.add(line)
            existing[line_no] = line
            next_no = max(next_no, line_no + 1)
            changed = True
            continue
        if line.item_id != item.id:
            raise Conflict(
                f"line {line_no} of {order.number} is for another item",
                field=f"lines[{i}].item",
                expected="the line's item; add a new line for a different item",
            )
        if (line.quantity, line.due_date) != (line_in.quantity, line_in.due_date):
            _change_line(session, order, line, line_in.quantity, line_in.due_date, f"lines[{i}]")
            changed = True
    return changed


def _fresh_number(session: Session) -> str:
    while True:
        number = next_number(session, "SO")
        if session.scalar(select(CustomerOrder.id).where(CustomerOrder.number == number)) is None:
            return number


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
    if quantity is not None and quantity != line.quantity:
        floor = line.quantity_shipped + line.quantity_reserved
        if quantity < floor:
            raise Conflict(
                f"customer line {name} has {line.quantity_shipped} shipped and "
                f"{line.quantity_reserved} reserved; it cannot drop to {quantity}",
                field=f"{field}.quantity" if field.startswith("lines") else "quantity",
                expected=f"at least {floor}, or unreserve first",
            )
        line.quantity = quantity
    if due_date is not None:
        line.due_date = due_date
    line.updated_at = utcnow()


def _result(order: CustomerOrder, **detail: object) -> OrderResult:
    return OrderResult(number=order.number, status=order.status.value, detail=dict(detail))


def create_customer_order(
    session: Session, actor: Actor, key: str, cmd: CreateCustomerOrder
) -> OrderResult:
    """Take in a customer order, or update the one with the same number or external ref."""

    def build(session: Session, actor: Actor, key: str, cmd: CreateCustomerOrder) -> OrderResult:
        order, created, changed = upsert_customer_order(session, actor, cmd)
        return _result(order, created=created, changed=changed)

    return run_order_event(session, actor, key, "customer_order.create", cmd, build)


def change_customer_line(
    session: Session, actor: Actor, key: str, cmd: ChangeCustomerLine
) -> OrderResult:
    """Change the quantity or due date of a customer line that has not shipped in full."""

    def build(session: Session, actor: Actor, key: str, cmd: ChangeCustomerLine) -> OrderResult:
        order = get_customer_order(session, cmd.order, lock=True)
        line = get_line(session, order, cmd.line_no)
        if cmd.quantity is not None:
            item = session.get(Item, line.item_id)
            assert item is not None
            _check_quantity(session, item, cmd.quantity, "quantity")
        _change_line(session, order, line, cmd.quantity, cmd.due_date, "line_no")
        session.flush()
        roll_up(session, order, actor, utcnow())
        return _result(
            order, line_no=line.line_no, quantity=str(line.quantity), due_date=str(line.due_date)
        )

    return run_order_event(session, actor, key, "customer_order.change_line", cmd, build)


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
        return _result(
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
    order = get_customer_order(session, number)
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    lines = lines_of(session, order)
    codes = dict(
        session.execute(
            select(Item.id, Item.code).where(Item.id.in_({x.item_id for x in lines}))
        ).all()
    )
    return CustomerOrderView(
        number=order.number,
        customer=customer.code,
        source=order.source,
        external_ref=order.external_ref,
        priority=order.priority.value,
        allow_partial=order.allow_partial,
        ship_to=order.ship_to,
        status=order.status.value,
        note=order.note,
        created_at=order.created_at,
        updated_at=order.updated_at,
        lines=[
            CustomerLineView(
                line_no=line.line_no,
                reference=line_reference(order.number, line.line_no),
                item=codes[line.item_id],
                quantity=line.quantity,
                due_date=line.due_date,
                status=line.status.value,
                quantity_reserved=line.quantity_reserved,
                quantity_shipped=line.quantity_shipped,
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
