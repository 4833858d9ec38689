"""Receiving against a purchase line: the ledger's receipt, the hold for inspection, the receipt
row and the line's progress, in the order event's one transaction."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput, WrongState
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import HoldCommand, LotIn, ReceiveCommand, ReceiveLine
from isom.masterdata import services as md
from isom.masterdata.models import Item, Supplier, Tracking
from isom.orders.book import result
from isom.orders.events import RECEIPT_OVER_PERCENT, get_setting, run_order_event
from isom.orders.models import PurchaseLine, PurchaseLineStatus, PurchaseOrder, Receipt
from isom.orders.models import PurchaseOrderStatus as _PO
from isom.orders.purchasing import (
    _roll_up,
    get_purchase_line,
    get_purchase_order,
    needs_inspection,
)
from isom.orders.queries import line_reference
from isom.orders.schemas import OrderResult, ReceivePurchaseLine
from isom.types import utcnow

Actor = ledger.Actor

RECEIVABLE = (_PO.approved, _PO.sent, _PO.partly_received)
LOT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


def receive_purchase_line(
    session: Session, actor: Actor, key: str, cmd: ReceivePurchaseLine
) -> OrderResult:
    """Receive a labelled container against a PO line (ledger receive), holding it if inspected.

    The running total may exceed the ordered quantity by the over-tolerance setting (else 409);
    a line within the under-tolerance counts as received.
    """
    return run_order_event(session, actor, key, "purchase_order.receive", cmd, _receive)


def _receive(session: Session, actor: Actor, key: str, cmd: ReceivePurchaseLine) -> OrderResult:
    order, line = _receivable_line(session, cmd)
    name = line_reference(order.number, line.line_no)
    item = session.get(Item, line.item_id)
    supplier = session.get(Supplier, order.supplier_id)
    assert item is not None and supplier is not None
    md.to_base_quantity(session, item, cmd.quantity, None, field="quantity")
    total = _total_within_tolerance(session, line, name, cmd.quantity)
    lot = _lot_for(item, cmd)
    event_id, code, held = _post_receipt(session, actor, key, cmd, line, name, item, supplier, lot)
    container_id = ledger_queries.container_id(session, code)
    assert container_id is not None
    now = utcnow()
    session.add(
        Receipt(
            purchase_line_id=line.id,
            ledger_event_id=event_id,
            container_id=container_id,
            quantity=cmd.quantity,
            lot_code=lot.code if lot else None,
            supplier_lot=cmd.supplier_lot,
            expiry_date=cmd.expiry_date,
            held=held,
            received_at=now,
            received_by=actor.name,
        )
    )
    line.quantity_received = total
    line.updated_at = now
    session.flush()
    _roll_up(session, order, actor, now)
    return result(
        order,
        line_no=line.line_no,
        line_status=line.status.value,
        container=code,
        quantity=str(cmd.quantity),
        quantity_received=str(line.quantity_received),
        held=held,
        ledger_event_id=event_id,
    )


def _receivable_line(
    session: Session, cmd: ReceivePurchaseLine
) -> tuple[PurchaseOrder, PurchaseLine]:
    """The locked order and its line, refused unless goods can arrive on them."""
    order = get_purchase_order(session, cmd.order, lock=True)
    line = get_purchase_line(session, order, cmd.line_no)
    if order.status not in RECEIVABLE:
        raise WrongState(
            f"purchase order {order.number} is {order.status.value}; nothing can be received on it",
            field="order",
            expected="an approved, sent or partly received order",
        )
    if line.status in (PurchaseLineStatus.cancelled, PurchaseLineStatus.closed):
        raise WrongState(
            f"purchase line {line_reference(order.number, line.line_no)} is {line.status.value}",
            field="line_no",
            expected="an open or partly received line",
        )
    return order, line


def _total_within_tolerance(
    session: Session, line: PurchaseLine, name: str, quantity: Decimal
) -> Decimal:
    """The line's received total after this receipt, refused over the over-tolerance."""
    over = get_setting(session, RECEIPT_OVER_PERCENT)
    limit = line.quantity * (1 + over / 100)
    total = line.quantity_received + quantity
    if total > limit:
        raise Conflict(
            f"receiving {quantity} would bring {name} to {total} of {line.quantity} "
            f"ordered, over the {over}% tolerance",
            field="quantity",
            expected=f"at most {limit - line.quantity_received}",
        )
    return total


#: What the ledger's receipt takes from the command as it stands: when, and into what where.
_WHERE_AND_WHEN = {"occurred_at", "container", "container_kind", "location"}


def _post_receipt(
    session: Session,
    actor: Actor,
    key: str,
    cmd: ReceivePurchaseLine,
    line: PurchaseLine,
    name: str,
    item: Item,
    supplier: Supplier,
    lot: LotIn | None,
) -> tuple[int, str, bool]:
    """The ledger's receipt (and hold, for an item inspected on arrival): event, container, held."""
    receipt = ledger.receive(
        session,
        actor,
        f"{key}/receive",
        ReceiveCommand(
            **cmd.model_dump(include=_WHERE_AND_WHEN),
            supplier=supplier.code,
            reference=name,
            lines=[
                ReceiveLine(
                    item=item.code, lot=lot, quantity=cmd.quantity, unit_cost=line.unit_price
                )
            ],
        ),
    )
    code = receipt.detail["container"]
    held = needs_inspection(item)
    if held:
        ledger.hold(
            session,
            actor,
            f"{key}/hold",
            HoldCommand(
                occurred_at=cmd.occurred_at,
                container=code,
                reason=f"incoming inspection of {item.code} from {name}",
            ),
        )
    return receipt.event_id, code, held


def _lot_for(item: Item, cmd: ReceivePurchaseLine) -> LotIn | None:
    if item.tracking is Tracking.none:
        if cmd.lot is not None:
            raise InvalidInput(
                f"item {item.code} is not lot-tracked", field="lot", expected="no lot"
            )
        return None
    code = cmd.lot or cmd.supplier_lot
    if code is None:
        raise InvalidInput(
            f"item {item.code} is {item.tracking.value}-tracked",
            field="lot",
            expected="our lot code, or the supplier's lot to use as ours",
        )
    if len(code) > 64 or not LOT_CODE.match(code):
        raise InvalidInput(
            f"the supplier lot {code!r} cannot be used as a lot code",
            field="lot",
            expected="a lot code of letters, digits, '.', '_', '-', '/'",
        )
    return LotIn(code=code, supplier_lot=cmd.supplier_lot, expiry_date=cmd.expiry_date)
