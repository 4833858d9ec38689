"""Ship orders with their pick lists, picking, packing and shipping.

A ship order releases (part of) a customer order; its pick list takes the lines' reserved stock
first, then free stock (see `reservations`). Picking moves a reservation with the goods: a
whole container keeps it, a split-off tote gets it. Shipping goes through the ledger (ship of
each shipping container), so what ships leaves inventory; the reservations then turn `shipped`
and the line's shipped quantity grows."""

from __future__ import annotations

from isom.orders.shipping.common import get_ship_order
from isom.orders.shipping.dispatch import ship
from isom.orders.shipping.picking import pack, pick
from isom.orders.shipping.ship_orders import cancel_ship_order, create_ship_order
from isom.orders.shipping.views import list_ship_orders, ship_order_view

__all__ = [
    "cancel_ship_order",
    "create_ship_order",
    "get_ship_order",
    "list_ship_orders",
    "pack",
    "pick",
    "ship",
    "ship_order_view",
]
