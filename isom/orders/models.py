"""Order tables: customer orders, purchase orders, receipts, reservations, ship orders and picks.

Quantities reserved, picked, received and shipped on a line are projections of the rows below
them (reservations, picks, receipts), kept in the same transaction as the ledger event that
moved the material; nobody edits them by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from isom.auth import sites
from isom.db import Base
from isom.orders.enums import OPEN_SHIP_ORDER as OPEN_SHIP_ORDER
from isom.orders.enums import PRIORITY_RANK as PRIORITY_RANK
from isom.orders.enums import CustomerLineStatus as CustomerLineStatus
from isom.orders.enums import CustomerOrderStatus as CustomerOrderStatus
from isom.orders.enums import PickStatus as PickStatus
from isom.orders.enums import Priority as Priority
from isom.orders.enums import PurchaseLineStatus as PurchaseLineStatus
from isom.orders.enums import PurchaseOrderStatus as PurchaseOrderStatus
from isom.orders.enums import ReservationStatus as ReservationStatus
from isom.orders.enums import ShipOrderStatus as ShipOrderStatus
from isom.types import ChangeStamp, Exact, JsonType, UtcDateTime, enum_column


class OrderLine:
    """Mixin for the columns a customer line and a purchase line share: which line of its
    order, what, how much and by when."""

    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact)
    due_date: Mapped[dt.date] = mapped_column(Date)


class CustomerOrder(ChangeStamp, Base):
    """What a customer ordered, from a person, the API, an import or a shop's webhook."""

    __tablename__ = "ord_customer_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("md_customer.id"), index=True)
    #: The site it belongs to (sites apart: `isom.auth.sites`).
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("md_location.id"), index=True, default=sites.new_order_site
    )
    source: Mapped[str] = mapped_column(String(40), default="manual")
    external_ref: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.normal)
    allow_partial: Mapped[bool] = mapped_column(Boolean, default=True)
    ship_to: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[CustomerOrderStatus] = mapped_column(
        enum_column(CustomerOrderStatus), index=True
    )
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("source", "external_ref"),)


class CustomerLine(OrderLine, Base):
    """One line of a customer order; `number/line_no` is how work orders and agents name it."""

    __tablename__ = "ord_customer_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("ord_customer_order.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[CustomerLineStatus] = mapped_column(enum_column(CustomerLineStatus), index=True)
    quantity_reserved: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    quantity_shipped: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "quantity_reserved >= 0 AND quantity_shipped >= 0", name="progress_non_negative"
        ),
    )


class PurchaseOrder(ChangeStamp, Base):
    """An order to a supplier: proposed (by a buyer or an agent), approved, sent, received."""

    __tablename__ = "ord_purchase_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("md_supplier.id"), index=True)
    #: The site it belongs to (sites apart: `isom.auth.sites`).
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("md_location.id"), index=True, default=sites.new_order_site
    )
    source: Mapped[str] = mapped_column(String(40), default="manual")
    external_ref: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[PurchaseOrderStatus] = mapped_column(
        enum_column(PurchaseOrderStatus), index=True
    )
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("source", "external_ref"),)


class PurchaseLine(OrderLine, Base):
    """One line of a purchase order, priced from the supplier's price list unless given."""

    __tablename__ = "ord_purchase_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("ord_purchase_order.id", ondelete="CASCADE"), index=True
    )
    unit_price: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    status: Mapped[PurchaseLineStatus] = mapped_column(enum_column(PurchaseLineStatus), index=True)
    quantity_received: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0 AND unit_price >= 0", name="quantity_positive"),
        CheckConstraint("quantity_received >= 0", name="received_non_negative"),
    )


class Receipt(Base):
    """A container received against a purchase line, and the ledger event that received it."""

    __tablename__ = "ord_receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purchase_line_id: Mapped[int] = mapped_column(ForeignKey("ord_purchase_line.id"), index=True)
    ledger_event_id: Mapped[int] = mapped_column(ForeignKey("ledger_event.id"))
    container_id: Mapped[int] = mapped_column(ForeignKey("ledger_container.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact)
    lot_code: Mapped[str | None] = mapped_column(String(64))
    supplier_lot: Mapped[str | None] = mapped_column(String(64))
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    received_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class Reservation(Base):
    """Stock in a container (item, lot) set aside for a customer line."""

    __tablename__ = "ord_reservation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_line_id: Mapped[int] = mapped_column(ForeignKey("ord_customer_line.id"), index=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("ledger_container.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact)
    status: Mapped[ReservationStatus] = mapped_column(enum_column(ReservationStatus), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class ShipOrder(ChangeStamp, Base):
    """A release of (part of) a customer order to pick, pack and ship together."""

    __tablename__ = "ord_ship_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_order_id: Mapped[int] = mapped_column(ForeignKey("ord_customer_order.id"), index=True)
    #: The site it belongs to (sites apart: `isom.auth.sites`).
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"), index=True)
    status: Mapped[ShipOrderStatus] = mapped_column(enum_column(ShipOrderStatus), index=True)
    ship_to: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ShipLine(Base):
    """How much of one customer line a ship order releases."""

    __tablename__ = "ord_ship_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ship_order_id: Mapped[int] = mapped_column(
        ForeignKey("ord_ship_order.id", ondelete="CASCADE"), index=True
    )
    customer_line_id: Mapped[int] = mapped_column(ForeignKey("ord_customer_line.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact)
    quantity_picked: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    quantity_shipped: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))

    __table_args__ = (
        UniqueConstraint("ship_order_id", "customer_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class Pick(Base):
    """One task of a pick list: take `quantity` of an item (and lot) from a container.

    `picked_container_id` is the container that holds the picked goods: the source itself
    when the whole container was taken, or the one split off it.
    """

    __tablename__ = "ord_pick"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ship_line_id: Mapped[int] = mapped_column(
        ForeignKey("ord_ship_line.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    container_id: Mapped[int] = mapped_column(ForeignKey("ledger_container.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact)
    whole_container: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[PickStatus] = mapped_column(enum_column(PickStatus), index=True)
    picked_quantity: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    picked_container_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    package_container_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    picked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    picked_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class OrderEvent(Base):
    """An applied order command and its answer (its key is kept once by the command frame)."""

    __tablename__ = "ord_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    command: Mapped[dict[str, Any]] = mapped_column(JsonType)
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class WebhookSource(Base):
    """A shop allowed to post orders to the webhook, with the secret that signs its bodies."""

    __tablename__ = "ord_webhook_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    secret: Mapped[str] = mapped_column(String(200))
    default_customer_id: Mapped[int | None] = mapped_column(ForeignKey("md_customer.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class OrderSetting(ChangeStamp, Base):
    """A named setting of the order domain (e.g. receipt tolerances), as exact text."""

    __tablename__ = "ord_setting"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class OrderCounter(Base):
    """Named number sequences (SO, PO, SH), taken under the write lock, never reused."""

    __tablename__ = "ord_counter"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
