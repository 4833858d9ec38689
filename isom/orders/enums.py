"""Orders' enums other domains may name (the shared enums of the import contract); the ORM classes
stay in `models.py`."""

from __future__ import annotations

import enum


class Priority(enum.StrEnum):
    rush = "rush"
    normal = "normal"
    low = "low"


#: Rush before normal before low, wherever demand is ranked.
PRIORITY_RANK = {Priority.rush: 0, Priority.normal: 1, Priority.low: 2}


class CustomerOrderStatus(enum.StrEnum):
    open = "open"
    reserved = "reserved"
    partly_shipped = "partly_shipped"
    shipped = "shipped"
    cancelled = "cancelled"


class CustomerLineStatus(enum.StrEnum):
    open = "open"
    reserved = "reserved"
    partly_shipped = "partly_shipped"
    shipped = "shipped"
    cancelled = "cancelled"


class PurchaseOrderStatus(enum.StrEnum):
    proposed = "proposed"
    approved = "approved"
    sent = "sent"
    partly_received = "partly_received"
    received = "received"
    cancelled = "cancelled"
    closed = "closed"


class PurchaseLineStatus(enum.StrEnum):
    open = "open"
    partly_received = "partly_received"
    received = "received"
    cancelled = "cancelled"
    closed = "closed"


class ReservationStatus(enum.StrEnum):
    active = "active"
    shipped = "shipped"
    released = "released"


class ShipOrderStatus(enum.StrEnum):
    planned = "planned"
    picking = "picking"
    picked = "picked"
    packed = "packed"
    shipped = "shipped"
    cancelled = "cancelled"


class PickStatus(enum.StrEnum):
    open = "open"
    picked = "picked"
    packed = "packed"
    shipped = "shipped"
    cancelled = "cancelled"


#: A ship order in these states still holds what it releases, not yet shipped.
OPEN_SHIP_ORDER = (
    ShipOrderStatus.planned,
    ShipOrderStatus.picking,
    ShipOrderStatus.picked,
    ShipOrderStatus.packed,
)
