"""finite scheduling: published plans and their planned operations

Revision ID: 0012
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import isom.types
from isom.migrations.helpers import foreign_key

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = isom.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plan_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("made_at", UTC, nullable=False),
        sa.Column("made_by", sa.String(length=100), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("moved_minutes", sa.BigInteger(), nullable=False),
        sa.Column("weighted_tardiness", sa.BigInteger(), nullable=False),
        sa.Column("late_jobs", sa.Integer(), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("seen", JSON, nullable=False),
        foreign_key("plan_schedule", "base_id", "plan_schedule"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_schedule")),
    )
    with op.batch_alter_table("plan_schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_schedule_status"), ["status"], unique=False)
    op.create_table(
        "plan_schedule_op",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("work_order", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("workstation", sa.String(length=64), nullable=False),
        sa.Column("start", UTC, nullable=False),
        sa.Column("end", UTC, nullable=False),
        sa.Column("due", UTC, nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("moved", sa.Boolean(), nullable=False),
        foreign_key("plan_schedule_op", "schedule_id", "plan_schedule", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_schedule_op")),
        sa.UniqueConstraint(
            "schedule_id",
            "work_order",
            "sequence",
            name=op.f("uq_plan_schedule_op_schedule_id_work_order_sequence"),
        ),
    )
    with op.batch_alter_table("plan_schedule_op", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_schedule_op_station", ["schedule_id", "workstation", "start"], unique=False
        )


def downgrade() -> None:
    op.drop_table("plan_schedule_op")
    op.drop_table("plan_schedule")
