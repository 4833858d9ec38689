"""Integration: EPCIS events captured from outside, and ERP inventory reconciliations.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import isom.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "epcis_captured_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=500), nullable=False),
        sa.Column("declaration", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("biz_step", sa.String(length=100), nullable=True),
        sa.Column("ledger_events", JSON, nullable=False),
        sa.Column("capture_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("captured_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_captured_event")),
        sa.UniqueConstraint(
            "event_id", "declaration", name=op.f("uq_epcis_captured_event_event_id_declaration")
        ),
    )
    with op.batch_alter_table("epcis_captured_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_epcis_captured_event_capture_id"), ["capture_id"], unique=False
        )
    op.create_table(
        "recon_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("feed_head", sa.BigInteger(), nullable=False),
        sa.Column("erp_rows", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("differences", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recon_run")),
    )


def downgrade() -> None:
    op.drop_table("recon_run")
    with op.batch_alter_table("epcis_captured_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epcis_captured_event_capture_id"))
    op.drop_table("epcis_captured_event")
