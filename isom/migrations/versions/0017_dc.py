"""distribution centre: despatch advice by SSCC, customers' shipping terms, waves

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-03 12:56:15.263194
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, json_type

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _dc_wave()
    _dc_advice()
    _dc_customer_terms()
    _dc_advised_pallet()
    _dc_advised_case()
    _dc_wave_order()


def _dc_wave() -> None:
    op.create_table(
        "dc_wave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("cutoff", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "status", enum_type("wavestatus", "released", "picking", "shipped"), nullable=False
        ),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dc_wave")),
        sa.UniqueConstraint("number", name=op.f("uq_dc_wave_number")),
    )
    with op.batch_alter_table("dc_wave", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dc_wave_status"), ["status"], unique=False)


def _dc_advice() -> None:
    op.create_table(
        "dc_advice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        foreign_key("dc_advice", "supplier_id", "md_supplier"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dc_advice")),
        sa.UniqueConstraint("number", name=op.f("uq_dc_advice_number")),
    )


def _dc_customer_terms() -> None:
    op.create_table(
        "dc_customer_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("cutoff", sa.String(length=5), nullable=False),
        sa.Column("gs1_labels", sa.Boolean(), nullable=False),
        foreign_key("dc_customer_terms", "customer_id", "md_customer"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dc_customer_terms")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_dc_customer_terms_customer_id")),
    )


def _dc_advised_pallet() -> None:
    op.create_table(
        "dc_advised_pallet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advice_id", sa.Integer(), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("status", enum_type("palletstatus", "advised", "received"), nullable=False),
        sa.Column(
            "received_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("received_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.String(length=100), nullable=True),
        sa.Column("differences", json_type(), nullable=False),
        foreign_key("dc_advised_pallet", "advice_id", "dc_advice"),
        foreign_key("dc_advised_pallet", "received_event_id", "ledger_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dc_advised_pallet")),
        sa.UniqueConstraint("sscc", name=op.f("uq_dc_advised_pallet_sscc")),
    )
    with op.batch_alter_table("dc_advised_pallet", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dc_advised_pallet_advice_id"), ["advice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dc_advised_pallet_status"), ["status"], unique=False)


def _dc_advised_case() -> None:
    op.create_table(
        "dc_advised_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pallet_id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("unit_cost", isom.types.Exact(), nullable=False),
        foreign_key("dc_advised_case", "item_id", "md_item"),
        foreign_key("dc_advised_case", "pallet_id", "dc_advised_pallet"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dc_advised_case")),
    )
    with op.batch_alter_table("dc_advised_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dc_advised_case_pallet_id"), ["pallet_id"], unique=False
        )


def _dc_wave_order() -> None:
    op.create_table(
        "dc_wave_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("ship_order_id", sa.Integer(), nullable=False),
        sa.Column("tote", sa.String(length=64), nullable=True),
        sa.Column("package", sa.String(length=64), nullable=True),
        foreign_key("dc_wave_order", "ship_order_id", "ord_ship_order"),
        foreign_key("dc_wave_order", "wave_id", "dc_wave"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dc_wave_order")),
        sa.UniqueConstraint("ship_order_id", name=op.f("uq_dc_wave_order_ship_order_id")),
    )
    with op.batch_alter_table("dc_wave_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dc_wave_order_wave_id"), ["wave_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dc_wave_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_wave_order_wave_id"))

    op.drop_table("dc_wave_order")
    with op.batch_alter_table("dc_advised_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_advised_case_pallet_id"))

    op.drop_table("dc_advised_case")
    with op.batch_alter_table("dc_advised_pallet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_advised_pallet_status"))
        batch_op.drop_index(batch_op.f("ix_dc_advised_pallet_advice_id"))

    op.drop_table("dc_advised_pallet")
    op.drop_table("dc_customer_terms")
    op.drop_table("dc_advice")
    with op.batch_alter_table("dc_wave", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dc_wave_status"))

    op.drop_table("dc_wave")
