"""reactions after the event: the queue of job-cost messages still to write

Revision ID: 0014
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import isom.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = isom.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_job_cost_due",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("work_order", sa.String(length=40), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("header", JSON, nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_job_cost_due")),
    )


def downgrade() -> None:
    op.drop_table("feed_job_cost_due")
