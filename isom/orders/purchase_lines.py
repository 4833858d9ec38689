"""Cancelling one purchase line: a re-plan that no longer needs an item on an order keeps the
order's other lines; the order itself is cancelled when no live line is left."""

from __future__ import annotations

from sqlalchemy.orm import Session

from isom.errors import Conflict
from isom.ledger import services as ledger
from isom.orders.book import result
from isom.orders.events import run_order_event
from isom.orders.models import PurchaseLineStatus, PurchaseOrderStatus
from isom.orders.purchasing import (
    CHANGEABLE,
    _roll_up,
    get_purchase_line,
    get_purchase_order,
    purchase_lines_of,
)
from isom.orders.queries import line_reference
from isom.orders.schemas import CancelPurchaseLine, OrderResult
from isom.orders.states import transition_purchase_line, transition_purchase_order
from isom.types import utcnow

Actor = ledger.Actor


def cancel_purchase_line(
    session: Session, actor: Actor, key: str, cmd: CancelPurchaseLine
) -> OrderResult:
    """Cancel a line with nothing received; the order goes with its last live line."""

    def build(session: Session, actor: Actor, key: str, cmd: CancelPurchaseLine) -> OrderResult:
        order = get_purchase_order(session, cmd.order, lock=True)
        line = get_purchase_line(session, order, cmd.line_no)
        name = line_reference(order.number, line.line_no)
        if order.status not in CHANGEABLE or line.quantity_received > 0:
            raise Conflict(
                f"purchase line {name} ({order.status.value}, received "
                f"{line.quantity_received}) cannot be cancelled",
                field="line_no",
                expected="a line with nothing received, on an order not received or closed",
            )
        now = utcnow()
        transition_purchase_line(line, PurchaseLineStatus.cancelled, at=now, name=name)
        if cmd.reason:
            order.note = (order.note + f"\n{name} cancelled: {cmd.reason}").strip()[:1000]
        live = [
            x
            for x in purchase_lines_of(session, order)
            if x.status is not PurchaseLineStatus.cancelled
        ]
        if not live:
            transition_purchase_order(order, PurchaseOrderStatus.cancelled, actor=actor, at=now)
        session.flush()
        _roll_up(session, order, actor, now)
        return result(order, line_no=line.line_no, reason=cmd.reason)

    return run_order_event(session, actor, key, "purchase_order.cancel_line", cmd, build)
