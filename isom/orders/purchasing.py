"""Purchase orders (create, change, approve, send, cancel, close) and receiving against them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import row_view
from isom.errors import AlreadyExists, Conflict, InvalidInput, WrongState
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.masterdata.models import Item, Supplier, SupplierItem
from isom.orders.book import Book, amend, line_fields, result
from isom.orders.events import (
    RECEIPT_OVER_PERCENT,
    RECEIPT_UNDER_PERCENT,
    get_setting,
    put_setting,
    run_order_event,
)
from isom.orders.models import (
    PurchaseLine,
    PurchaseLineStatus,
    PurchaseOrder,
    PurchaseOrderStatus,
)
from isom.orders.queries import line_reference, newest
from isom.orders.schemas import (
    ChangePurchaseLine,
    CreatePurchaseOrder,
    OrderResult,
    PurchaseLineView,
    PurchaseOrderAction,
    PurchaseOrderView,
    SetReceiptTolerance,
)
from isom.orders.states import (
    purchase_line_status,
    purchase_order_status,
    transition_purchase_line,
    transition_purchase_order,
)
from isom.types import utcnow

Actor = ledger.Actor
_PO = PurchaseOrderStatus
CHANGEABLE = (_PO.proposed, _PO.approved, _PO.sent, _PO.partly_received)
#: The item attribute that asks for incoming inspection (masterdata has no column for it).
INSPECTION_ATTRIBUTE = "inspection_required"


# ---------------------------------------------------------------------------------------------
# Look-ups.


def get_purchase_order(session: Session, number: str, *, lock: bool = False) -> PurchaseOrder:
    """The purchase order with this number (locked when `lock`), or 404."""
    return BOOK.get(session, number, lock=lock)


def purchase_lines_of(session: Session, order: PurchaseOrder) -> list[PurchaseLine]:
    """The order's lines by line number."""
    return BOOK.lines(session, order)


def get_purchase_line(session: Session, order: PurchaseOrder, line_no: int) -> PurchaseLine:
    """One line of a purchase order, or 404."""
    return BOOK.get_line(session, order, line_no)


def needs_inspection(item: Item) -> bool:
    """Whether receipts of this item go on hold until inspected (item attribute, see above)."""
    flag = (item.attributes or {}).get(INSPECTION_ATTRIBUTE)
    return str(flag).strip().lower() in ("1", "true", "yes", "y")


def _roll_up(session: Session, order: PurchaseOrder, actor: Actor, at: dt.datetime) -> None:
    under = get_setting(session, RECEIPT_UNDER_PERCENT)
    lines = purchase_lines_of(session, order)
    for line in lines:
        transition_purchase_line(
            line,
            purchase_line_status(line, under_percent=under),
            at=at,
            name=line_reference(order.number, line.line_no),
        )
        line.updated_at = at  # planning re-reads the items of lines stamped since its cursor
    transition_purchase_order(order, purchase_order_status(order, lines), actor=actor, at=at)
    order.updated_at = at
    order.updated_by = actor.name


# ---------------------------------------------------------------------------------------------
# Create or update.


def _price_list(session: Session, supplier: Supplier, item: Item) -> SupplierItem | None:
    return session.scalar(
        select(SupplierItem).where(
            SupplierItem.supplier_id == supplier.id, SupplierItem.item_id == item.id
        )
    )


def upsert_purchase_order(
    session: Session, actor: Actor, cmd: CreatePurchaseOrder
) -> tuple[PurchaseOrder, bool, bool]:
    """Create the order, or update the one with this number or external reference.

    Prices come from the supplier's price list unless given; a line for an item the supplier
    does not list needs its `unit_price`. An update changes the lines it names (by line number,
    or by position) and adds new ones. Returns (order, created, changed).
    """
    supplier = md.get_supplier(session, cmd.supplier)
    if not supplier.active:
        raise WrongState(
            f"supplier {supplier.code} is inactive", field="supplier", expected="an active supplier"
        )
    prepared = _priced_lines(session, supplier, cmd)
    now = utcnow()
    order, created, existing, changed = _open_order(session, actor, supplier, cmd, now)
    changed = _apply_lines(session, order, existing, cmd, prepared, created, now) or changed
    session.flush()
    if cmd.approve and order.status is PurchaseOrderStatus.proposed:
        transition_purchase_order(order, PurchaseOrderStatus.approved, actor=actor, at=now)
    _roll_up(session, order, actor, now)
    session.flush()
    return order, created, changed


_Priced = tuple[Item, Decimal, dt.date]


def _priced_lines(session: Session, supplier: Supplier, cmd: CreatePurchaseOrder) -> list[_Priced]:
    """Each line's item, unit price (given, else the supplier's price list) and due date."""
    today = utcnow().date()
    prepared: list[_Priced] = []
    for i, line_in in enumerate(cmd.lines):
        field = f"lines[{i}]"
        item = md.get_item(session, line_in.item, field=f"{field}.item")
        md.to_base_quantity(session, item, line_in.quantity, None, field=f"{field}.quantity")
        listed = _price_list(session, supplier, item)
        if line_in.unit_price is not None:
            price = line_in.unit_price
        elif listed is not None:
            price = listed.price
        else:
            raise InvalidInput(
                f"supplier {supplier.code} has no price for {item.code}",
                field=f"{field}.unit_price",
                expected="a unit price, or a price-list entry for this supplier and item",
            )
        lead = listed.lead_time_days if listed is not None else 0
        prepared.append((item, price, line_in.due_date or today + dt.timedelta(days=lead)))
    return prepared


def _open_order(
    session: Session, actor: Actor, supplier: Supplier, cmd: CreatePurchaseOrder, now: dt.datetime
) -> tuple[PurchaseOrder, bool, dict[int, PurchaseLine], bool]:
    """The order the command names, or a new proposed one: (order, created, its lines by
    number, whether the order itself changed)."""
    order = BOOK.find(session, cmd, taken=AlreadyExists)
    created = order is None
    if order is None:
        order = BOOK.new(
            session, cmd, actor, now, supplier_id=supplier.id, currency=supplier.currency,
            status=PurchaseOrderStatus.proposed,
        )  # fmt: skip
        existing: dict[int, PurchaseLine] = {}
        changed = True
    else:
        if order.supplier_id != supplier.id:
            raise Conflict(
                f"purchase order {order.number} is to another supplier",
                field="supplier",
                expected="the supplier the order was made for",
            )
        existing = {line.line_no: line for line in purchase_lines_of(session, order)}
        changed = order.note != cmd.note
        order.note = cmd.note
    return order, created, existing, changed


def _apply_lines(
    session: Session,
    order: PurchaseOrder,
    existing: dict[int, PurchaseLine],
    cmd: CreatePurchaseOrder,
    prepared: list[_Priced],
    created: bool,
    now: dt.datetime,
) -> bool:
    """Add the new lines and change the named ones; whether any line changed."""

    def add(i: int, line_no: int) -> PurchaseLine:
        item, price, due = prepared[i]
        return PurchaseLine(
            order_id=order.id,
            line_no=line_no,
            item_id=item.id,
            quantity=cmd.lines[i].quantity,
            due_date=due,
            unit_price=price,
            status=PurchaseLineStatus.open,
            quantity_received=Decimal(0),
            updated_at=now,
        )

    def change(i: int, line: PurchaseLine) -> bool:
        given, price = cmd.lines[i], prepared[i][1]
        new = (given.quantity, given.due_date or line.due_date, price)
        if new == (line.quantity, line.due_date, line.unit_price):
            return False
        _change_line(session, order, line, given.quantity, new[1], f"lines[{i}]")
        line.unit_price = price
        return True

    closed = (
        None if order.status in CHANGEABLE else "an order that is not received, cancelled or closed"
    )
    items = [item for item, _, _ in prepared]
    return BOOK.apply_lines(
        session, order, existing, cmd.lines, items, created=created, closed=closed, add=add,
        change=change,
    )  # fmt: skip


def _change_line(
    session: Session,
    order: PurchaseOrder,
    line: PurchaseLine,
    quantity: Decimal | None,
    due_date: dt.date | None,
    field: str,
) -> None:
    name = line_reference(order.number, line.line_no)
    if order.status not in CHANGEABLE or line.status in (
        PurchaseLineStatus.cancelled,
        PurchaseLineStatus.closed,
    ):
        raise Conflict(
            f"purchase line {name} ({order.status.value}, line {line.status.value}) cannot change",
            field=field,
            expected="a line of an order that is not received, cancelled or closed",
        )
    received = line.quantity_received
    amend(
        line, quantity, due_date, floor=received, name=f"purchase line {name}", field=field,
        held=f"received {received}", expected=f"at least {received}",
    )  # fmt: skip


BOOK = Book(
    PurchaseOrder, PurchaseLine, "purchase order", "PO", "purchase_order", _change_line, _roll_up
)


def create_purchase_order(
    session: Session, actor: Actor, key: str, cmd: CreatePurchaseOrder
) -> OrderResult:
    """Propose (or, with `approve`, approve) a purchase order, or update the one it names."""
    return BOOK.create(session, actor, key, cmd, upsert_purchase_order)


def change_purchase_line(
    session: Session, actor: Actor, key: str, cmd: ChangePurchaseLine
) -> OrderResult:
    """Change the quantity or due date of a purchase line."""
    return BOOK.change_line(session, actor, key, cmd)


def _apply_action(
    session: Session,
    actor: Actor,
    key: str,
    cmd: PurchaseOrderAction,
    to: PurchaseOrderStatus,
    lines_to: PurchaseLineStatus | None = None,
) -> OrderResult:
    def build(session: Session, actor: Actor, key: str, cmd: PurchaseOrderAction) -> OrderResult:
        order = get_purchase_order(session, cmd.order, lock=True)
        now = utcnow()
        transition_purchase_order(order, to, actor=actor, at=now)
        if lines_to is not None:
            for line in purchase_lines_of(session, order):
                if line.status in (PurchaseLineStatus.open, PurchaseLineStatus.partly_received):
                    transition_purchase_line(
                        line, lines_to, at=now, name=line_reference(order.number, line.line_no)
                    )
        if cmd.reason:
            order.note = (order.note + f"\n{to.value}: {cmd.reason}").strip()[:1000]
        session.flush()
        _roll_up(session, order, actor, now)
        if to is PurchaseOrderStatus.sent:
            base = f"/api/v1/orders/purchase-orders/{order.number}"
            return result(order, reason=cmd.reason, pdf=f"{base}/pdf", csv=f"{base}/csv")
        return result(order, reason=cmd.reason)

    return run_order_event(session, actor, key, f"purchase_order.{to.value}", cmd, build)


def approve_purchase_order(
    session: Session, actor: Actor, key: str, cmd: PurchaseOrderAction
) -> OrderResult:
    """A buyer approves a proposed purchase order; it may then be sent."""
    return _apply_action(session, actor, key, cmd, PurchaseOrderStatus.approved)


def send_purchase_order(
    session: Session, actor: Actor, key: str, cmd: PurchaseOrderAction
) -> OrderResult:
    """Mark an approved order as sent to the supplier (its PDF and CSV are the documents)."""
    return _apply_action(session, actor, key, cmd, PurchaseOrderStatus.sent)


def cancel_purchase_order(
    session: Session, actor: Actor, key: str, cmd: PurchaseOrderAction
) -> OrderResult:
    """Cancel a purchase order on which nothing has been received."""
    return _apply_action(
        session, actor, key, cmd, PurchaseOrderStatus.cancelled, PurchaseLineStatus.cancelled
    )


def close_purchase_order(
    session: Session, actor: Actor, key: str, cmd: PurchaseOrderAction
) -> OrderResult:
    """Close a sent or (partly) received order: nothing more is expected on it."""
    return _apply_action(
        session, actor, key, cmd, PurchaseOrderStatus.closed, PurchaseLineStatus.closed
    )


def set_receipt_tolerance(
    session: Session, actor: Actor, key: str, cmd: SetReceiptTolerance
) -> OrderResult:
    """Set how far over the ordered quantity a receipt may go, and how far under closes a line."""

    def build(session: Session, actor: Actor, key: str, cmd: SetReceiptTolerance) -> OrderResult:
        put_setting(session, actor, RECEIPT_OVER_PERCENT, cmd.over_percent)
        put_setting(session, actor, RECEIPT_UNDER_PERCENT, cmd.under_percent)
        return OrderResult(
            number="receipt-tolerance",
            status="set",
            detail={"over_percent": str(cmd.over_percent), "under_percent": str(cmd.under_percent)},
        )

    return run_order_event(session, actor, key, "settings.receipt_tolerance", cmd, build)


# ---------------------------------------------------------------------------------------------
# Views.


def purchase_order_view(session: Session, number: str) -> PurchaseOrderView:
    """The order with its lines, amounts and what has arrived."""
    order, lines, codes = BOOK.shown(session, number)
    supplier = session.get(Supplier, order.supplier_id)
    assert supplier is not None
    views = [
        row_view(
            PurchaseLineView,
            line,
            **line_fields(order, line, codes),
            amount=line.quantity * line.unit_price,
            quantity_open=(
                max(line.quantity - line.quantity_received, Decimal(0))
                if line.status in (PurchaseLineStatus.open, PurchaseLineStatus.partly_received)
                else Decimal(0)
            ),
        )
        for line in lines
    ]
    return row_view(
        PurchaseOrderView,
        order,
        status=order.status.value,
        supplier=supplier.code,
        total=sum(
            (v.amount for v in views if v.status != PurchaseLineStatus.cancelled.value), Decimal(0)
        ),
        lines=views,
    )


def list_purchase_orders(
    session: Session, *, status: PurchaseOrderStatus | None = None, limit: int = 100
) -> list[PurchaseOrderView]:
    """The newest purchase orders, optionally of one status."""
    numbers = newest(session, PurchaseOrder, status, limit)
    return [purchase_order_view(session, number) for number in numbers]
