"""The order domain's one entry point: customer orders, purchasing, receiving, shipping.

Every write takes the session first, then who acts, the idempotency key and a validated
command (the shape `isom.toolkit.commands.add_command_route` mounts); it checks everything before
it writes, moves material only through the ledger's services, and never commits. A replay of
a key answers the stored `OrderResult` with `replayed=True`.

Writes (all `(session, actor, key, cmd) -> OrderResult`):
- customer orders: `create_customer_order` (upsert by number or source + external_ref),
  `change_customer_line`, `cancel_customer_order` (whole order or one line);
- purchase orders: `create_purchase_order` (proposed, or approved with `approve=True`),
  `approve_purchase_order`, `send_purchase_order`, `cancel_purchase_order`,
  `close_purchase_order`, `change_purchase_line`, `cancel_purchase_line`, `receive_purchase_line`,
  `set_receipt_tolerance`;
- reservations: `reserve`, `unreserve`;
- shipping: `create_ship_order` (makes its pick list),
  `pick`, `pack`, `ship`, `cancel_ship_order`.

Reads for planning and agents live in `isom.orders.queries` (re-exported here):
`open_customer_demand`, `open_purchase_supply`, `reserved_by_item`, `reservations`,
`line_by_reference`. Views for the API: `customer_order_view`, `purchase_order_view`,
`ship_order_view`.
"""

from __future__ import annotations

from isom.ledger import services as ledger
from isom.orders.customer import (
    cancel_customer_order,
    change_customer_line,
    create_customer_order,
    customer_order_view,
    get_customer_order,
)
from isom.orders.purchase_lines import cancel_purchase_line
from isom.orders.purchase_receiving import receive_purchase_line
from isom.orders.purchasing import (
    approve_purchase_order,
    cancel_purchase_order,
    change_purchase_line,
    close_purchase_order,
    create_purchase_order,
    get_purchase_order,
    purchase_order_view,
    send_purchase_order,
    set_receipt_tolerance,
)
from isom.orders.queries import (
    Demand,
    ReservationRow,
    Supply,
    line_by_reference,
    open_customer_demand,
    open_purchase_supply,
    reservations,
    reserved_by_item,
)
from isom.orders.reservations import reserve, unreserve
from isom.orders.shipping import (
    cancel_ship_order,
    create_ship_order,
    get_ship_order,
    pack,
    pick,
    ship,
    ship_order_view,
)

Actor = ledger.Actor

__all__ = [
    "Actor",
    "Demand",
    "ReservationRow",
    "Supply",
    "approve_purchase_order",
    "cancel_customer_order",
    "cancel_purchase_line",
    "cancel_purchase_order",
    "cancel_ship_order",
    "change_customer_line",
    "change_purchase_line",
    "close_purchase_order",
    "create_customer_order",
    "create_purchase_order",
    "create_ship_order",
    "customer_order_view",
    "get_customer_order",
    "get_purchase_order",
    "get_ship_order",
    "line_by_reference",
    "open_customer_demand",
    "open_purchase_supply",
    "pack",
    "pick",
    "purchase_order_view",
    "receive_purchase_line",
    "reservations",
    "reserve",
    "reserved_by_item",
    "send_purchase_order",
    "set_receipt_tolerance",
    "ship",
    "ship_order_view",
    "unreserve",
]
