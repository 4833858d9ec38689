"""trust rules: per-site count tolerance, and counts beyond it awaiting approval

Revision ID: 0009
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import isom.types
from isom.migrations.helpers import enum_type, foreign_key

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ledger_count_rule",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("tolerance_quantity", isom.types.Exact(), nullable=False),
        sa.Column("tolerance_percent", isom.types.Exact(), nullable=False),
        sa.Column("exceed_roles", JSON, nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        foreign_key("ledger_count_rule", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_ledger_count_rule")),
    )
    op.create_table(
        "ledger_count_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count_event_id", EVENT_ID, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("book", isom.types.Exact(), nullable=False),
        sa.Column("counted", isom.types.Exact(), nullable=False),
        sa.Column("delta", isom.types.Exact(), nullable=False),
        sa.Column(
            "status",
            enum_type("countproposalstatus", "pending", "approved", "rejected"),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("applied_event_id", EVENT_ID, nullable=True),
        foreign_key("ledger_count_proposal", "applied_event_id", "ledger_event"),
        foreign_key("ledger_count_proposal", "container_id", "ledger_container"),
        foreign_key("ledger_count_proposal", "count_event_id", "ledger_event"),
        foreign_key("ledger_count_proposal", "item_id", "md_item"),
        foreign_key("ledger_count_proposal", "lot_id", "ledger_lot"),
        foreign_key("ledger_count_proposal", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_count_proposal")),
        sa.UniqueConstraint("count_event_id", name=op.f("uq_ledger_count_proposal_count_event_id")),
    )
    with op.batch_alter_table("ledger_count_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_count_proposal_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_count_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_count_proposal_status"))
    op.drop_table("ledger_count_proposal")
    op.drop_table("ledger_count_rule")
