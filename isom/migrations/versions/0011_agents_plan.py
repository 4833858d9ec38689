"""agents plan: a decision's scope (the plan's identity for what it changes), alerts in place

Revision ID: 0011
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_agent_decision_scope"), ["scope"], unique=False)
    op.create_table(
        "agent_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("condition", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", enum_type("alertstatus", "open", "closed"), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("opened_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        foreign_key("agent_alert", "item_id", "md_item"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_alert")),
        sa.UniqueConstraint("key", name=op.f("uq_agent_alert_key")),
    )
    with op.batch_alter_table("agent_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_alert_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("agent_alert")
    with op.batch_alter_table("agent_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_decision_scope"))
        batch_op.drop_column("scope")
