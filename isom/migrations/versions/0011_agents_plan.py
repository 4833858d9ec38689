"""agents plan: a decision's scope (the plan's identity for what it changes), alerts in place"""

import sqlalchemy as sa
from alembic import op

from isom.migrations.columns import create_tables

revision: str = "0011"
down_revision: str | None = "0010"

TABLES = (
    """
    agent_alert
    id          integer
    key         string 200
    condition   string 40
    item_id     integer null
    subject     string 200
    status      enum alertstatus open closed
    date        date null
    text        string 2000
    opened_at   moment
    updated_at  moment
    closed_at   moment null
    REF item_id md_item
    UNIQUE key
    INDEX status
    """,
)


def upgrade() -> None:
    with op.batch_alter_table("agent_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_agent_decision_scope"), ["scope"], unique=False)
    create_tables(TABLES)


def downgrade() -> None:
    op.drop_table("agent_alert")
    with op.batch_alter_table("agent_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_decision_scope"))
        batch_op.drop_column("scope")
