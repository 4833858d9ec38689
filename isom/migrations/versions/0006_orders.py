"""Order tables: customer and purchase orders, receipts, reservations, ship orders, picks.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, indexes, json_type

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _ord_counter()
    _ord_event()
    _ord_setting()
    _ord_customer_order()
    _ord_purchase_order()
    _ord_webhook_source()
    _ord_customer_line()
    _ord_purchase_line()
    _ord_ship_order()
    _ord_receipt()
    _ord_reservation()
    _ord_ship_line()
    _ord_pick()


def _ord_counter() -> None:
    op.create_table(
        "ord_counter",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ord_counter")),
    )


def _ord_event() -> None:
    op.create_table(
        "ord_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("command", json_type(), nullable=False),
        sa.Column("result", json_type(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_event")),
        sa.UniqueConstraint("key", name=op.f("uq_ord_event_key")),
    )


def _ord_setting() -> None:
    op.create_table(
        "ord_setting",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ord_setting")),
    )


def _ord_customer_order() -> None:
    op.create_table(
        "ord_customer_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("priority", enum_type("priority", "rush", "normal", "low"), nullable=False),
        sa.Column("allow_partial", sa.Boolean(), nullable=False),
        sa.Column("ship_to", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            enum_type(
                "customerorderstatus", "open", "reserved", "partly_shipped", "shipped", "cancelled"
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        foreign_key("ord_customer_order", "customer_id", "md_customer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_customer_order")),
        sa.UniqueConstraint("number", name=op.f("uq_ord_customer_order_number")),
        sa.UniqueConstraint(
            "source", "external_ref", name=op.f("uq_ord_customer_order_source_external_ref")
        ),
    )
    indexes("ord_customer_order", "customer_id", "status")


def _ord_purchase_order() -> None:
    op.create_table(
        "ord_purchase_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            enum_type(
                "purchaseorderstatus",
                "proposed",
                "approved",
                "sent",
                "partly_received",
                "received",
                "cancelled",
                "closed",
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        foreign_key("ord_purchase_order", "supplier_id", "md_supplier"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_purchase_order")),
        sa.UniqueConstraint("number", name=op.f("uq_ord_purchase_order_number")),
        sa.UniqueConstraint(
            "source", "external_ref", name=op.f("uq_ord_purchase_order_source_external_ref")
        ),
    )
    indexes("ord_purchase_order", "status", "supplier_id")


def _ord_webhook_source() -> None:
    op.create_table(
        "ord_webhook_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("default_customer_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("ord_webhook_source", "default_customer_id", "md_customer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_webhook_source")),
        sa.UniqueConstraint("name", name=op.f("uq_ord_webhook_source_name")),
    )


def _ord_customer_line() -> None:
    op.create_table(
        "ord_customer_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            enum_type(
                "customerlinestatus", "open", "reserved", "partly_shipped", "shipped", "cancelled"
            ),
            nullable=False,
        ),
        sa.Column("quantity_reserved", isom.types.Exact(), nullable=False),
        sa.Column("quantity_shipped", isom.types.Exact(), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_ord_customer_line_quantity_positive")),
        sa.CheckConstraint(
            "quantity_reserved >= 0 AND quantity_shipped >= 0",
            name=op.f("ck_ord_customer_line_progress_non_negative"),
        ),
        foreign_key("ord_customer_line", "item_id", "md_item"),
        foreign_key("ord_customer_line", "order_id", "ord_customer_order", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_customer_line")),
        sa.UniqueConstraint(
            "order_id", "line_no", name=op.f("uq_ord_customer_line_order_id_line_no")
        ),
    )
    indexes("ord_customer_line", "item_id", "order_id", "status")


def _ord_purchase_line() -> None:
    op.create_table(
        "ord_purchase_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("unit_price", isom.types.Exact(), nullable=False),
        sa.Column(
            "status",
            enum_type(
                "purchaselinestatus", "open", "partly_received", "received", "cancelled", "closed"
            ),
            nullable=False,
        ),
        sa.Column("quantity_received", isom.types.Exact(), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND unit_price >= 0", name=op.f("ck_ord_purchase_line_quantity_positive")
        ),
        sa.CheckConstraint(
            "quantity_received >= 0", name=op.f("ck_ord_purchase_line_received_non_negative")
        ),
        foreign_key("ord_purchase_line", "item_id", "md_item"),
        foreign_key("ord_purchase_line", "order_id", "ord_purchase_order", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_purchase_line")),
        sa.UniqueConstraint(
            "order_id", "line_no", name=op.f("uq_ord_purchase_line_order_id_line_no")
        ),
    )
    indexes("ord_purchase_line", "item_id", "order_id", "status")


def _ord_ship_order() -> None:
    op.create_table(
        "ord_ship_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("customer_order_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            enum_type(
                "shiporderstatus", "planned", "picking", "picked", "packed", "shipped", "cancelled"
            ),
            nullable=False,
        ),
        sa.Column("ship_to", sa.String(length=500), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        foreign_key("ord_ship_order", "customer_order_id", "ord_customer_order"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_ship_order")),
        sa.UniqueConstraint("number", name=op.f("uq_ord_ship_order_number")),
    )
    indexes("ord_ship_order", "customer_order_id", "status")


def _ord_receipt() -> None:
    op.create_table(
        "ord_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_line_id", sa.Integer(), nullable=False),
        sa.Column(
            "ledger_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("lot_code", sa.String(length=64), nullable=True),
        sa.Column("supplier_lot", sa.String(length=64), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("received_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_ord_receipt_quantity_positive")),
        foreign_key("ord_receipt", "container_id", "ledger_container"),
        foreign_key("ord_receipt", "ledger_event_id", "ledger_event"),
        foreign_key("ord_receipt", "purchase_line_id", "ord_purchase_line"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_receipt")),
    )
    indexes("ord_receipt", "purchase_line_id")


def _ord_reservation() -> None:
    op.create_table(
        "ord_reservation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_line_id", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column(
            "status",
            enum_type("reservationstatus", "active", "shipped", "released"),
            nullable=False,
        ),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_ord_reservation_quantity_positive")),
        foreign_key("ord_reservation", "container_id", "ledger_container"),
        foreign_key("ord_reservation", "customer_line_id", "ord_customer_line"),
        foreign_key("ord_reservation", "item_id", "md_item"),
        foreign_key("ord_reservation", "lot_id", "ledger_lot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_reservation")),
    )
    indexes("ord_reservation", "container_id", "customer_line_id", "item_id", "status")


def _ord_ship_line() -> None:
    op.create_table(
        "ord_ship_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ship_order_id", sa.Integer(), nullable=False),
        sa.Column("customer_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("quantity_picked", isom.types.Exact(), nullable=False),
        sa.Column("quantity_shipped", isom.types.Exact(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_ord_ship_line_quantity_positive")),
        foreign_key("ord_ship_line", "customer_line_id", "ord_customer_line"),
        foreign_key("ord_ship_line", "ship_order_id", "ord_ship_order", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_ship_line")),
        sa.UniqueConstraint(
            "ship_order_id",
            "customer_line_id",
            name=op.f("uq_ord_ship_line_ship_order_id_customer_line_id"),
        ),
    )
    indexes("ord_ship_line", "customer_line_id", "ship_order_id")


def _ord_pick() -> None:
    op.create_table(
        "ord_pick",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ship_line_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("whole_container", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            enum_type("pickstatus", "open", "picked", "packed", "shipped", "cancelled"),
            nullable=False,
        ),
        sa.Column("picked_quantity", isom.types.Exact(), nullable=False),
        sa.Column("picked_container_id", sa.Integer(), nullable=True),
        sa.Column("package_container_id", sa.Integer(), nullable=True),
        sa.Column("picked_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("picked_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_ord_pick_quantity_positive")),
        foreign_key("ord_pick", "container_id", "ledger_container"),
        foreign_key("ord_pick", "item_id", "md_item"),
        foreign_key("ord_pick", "lot_id", "ledger_lot"),
        foreign_key("ord_pick", "package_container_id", "ledger_container"),
        foreign_key("ord_pick", "picked_container_id", "ledger_container"),
        foreign_key("ord_pick", "ship_line_id", "ord_ship_line", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ord_pick")),
    )
    indexes("ord_pick", "container_id", "ship_line_id", "status")


def downgrade() -> None:
    op.drop_index(op.f("ix_ord_pick_status"), table_name="ord_pick")
    op.drop_index(op.f("ix_ord_pick_ship_line_id"), table_name="ord_pick")
    op.drop_index(op.f("ix_ord_pick_container_id"), table_name="ord_pick")
    op.drop_table("ord_pick")
    op.drop_index(op.f("ix_ord_ship_line_ship_order_id"), table_name="ord_ship_line")
    op.drop_index(op.f("ix_ord_ship_line_customer_line_id"), table_name="ord_ship_line")
    op.drop_table("ord_ship_line")
    op.drop_index(op.f("ix_ord_reservation_status"), table_name="ord_reservation")
    op.drop_index(op.f("ix_ord_reservation_item_id"), table_name="ord_reservation")
    op.drop_index(op.f("ix_ord_reservation_customer_line_id"), table_name="ord_reservation")
    op.drop_index(op.f("ix_ord_reservation_container_id"), table_name="ord_reservation")
    op.drop_table("ord_reservation")
    op.drop_index(op.f("ix_ord_receipt_purchase_line_id"), table_name="ord_receipt")
    op.drop_table("ord_receipt")
    op.drop_index(op.f("ix_ord_ship_order_status"), table_name="ord_ship_order")
    op.drop_index(op.f("ix_ord_ship_order_customer_order_id"), table_name="ord_ship_order")
    op.drop_table("ord_ship_order")
    op.drop_index(op.f("ix_ord_purchase_line_status"), table_name="ord_purchase_line")
    op.drop_index(op.f("ix_ord_purchase_line_order_id"), table_name="ord_purchase_line")
    op.drop_index(op.f("ix_ord_purchase_line_item_id"), table_name="ord_purchase_line")
    op.drop_table("ord_purchase_line")
    op.drop_index(op.f("ix_ord_customer_line_status"), table_name="ord_customer_line")
    op.drop_index(op.f("ix_ord_customer_line_order_id"), table_name="ord_customer_line")
    op.drop_index(op.f("ix_ord_customer_line_item_id"), table_name="ord_customer_line")
    op.drop_table("ord_customer_line")
    op.drop_table("ord_webhook_source")
    op.drop_index(op.f("ix_ord_purchase_order_supplier_id"), table_name="ord_purchase_order")
    op.drop_index(op.f("ix_ord_purchase_order_status"), table_name="ord_purchase_order")
    op.drop_table("ord_purchase_order")
    op.drop_index(op.f("ix_ord_customer_order_status"), table_name="ord_customer_order")
    op.drop_index(op.f("ix_ord_customer_order_customer_id"), table_name="ord_customer_order")
    op.drop_table("ord_customer_order")
    op.drop_table("ord_setting")
    op.drop_table("ord_event")
    op.drop_table("ord_counter")
