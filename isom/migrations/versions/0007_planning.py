"""planning and agents: stored projections, dirty marks, cursors, price breaks, decisions

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, json_type

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = json_type()


def upgrade() -> None:
    _plan_item_projection()
    _plan_dirty_item()
    _plan_cursor()
    _plan_price_break()
    _agent_setting()
    _agent_decision()


def _plan_item_projection() -> None:
    op.create_table(
        "plan_item_projection",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", isom.types.Exact(), nullable=False),
        sa.Column("end_quantity", isom.types.Exact(), nullable=False),
        sa.Column("first_shortage_date", sa.Date(), nullable=True),
        sa.Column("shortage_quantity", isom.types.Exact(), nullable=False),
        sa.Column("entries", JSON, nullable=False),
        sa.Column("pegging", JSON, nullable=False),
        sa.Column("computed_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("plan_item_projection", "item_id", "md_item"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_plan_item_projection")),
    )
    with op.batch_alter_table("plan_item_projection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_item_projection_first_shortage_date"),
            ["first_shortage_date"],
            unique=False,
        )


def _plan_dirty_item() -> None:
    op.create_table(
        "plan_dirty_item",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("plan_dirty_item", "item_id", "md_item"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_plan_dirty_item")),
    )


def _plan_cursor() -> None:
    op.create_table(
        "plan_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_plan_cursor")),
    )


def _plan_price_break() -> None:
    op.create_table(
        "plan_price_break",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_item_id", sa.Integer(), nullable=False),
        sa.Column("min_quantity", isom.types.Exact(), nullable=False),
        sa.Column("price", isom.types.Exact(), nullable=False),
        sa.CheckConstraint(
            "min_quantity > 0 AND price >= 0", name=op.f("ck_plan_price_break_non_negative")
        ),
        foreign_key("plan_price_break", "supplier_item_id", "md_supplier_item", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_price_break")),
    )
    with op.batch_alter_table("plan_price_break", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_price_break_supplier_item_id"), ["supplier_item_id"], unique=False
        )


def _agent_setting() -> None:
    op.create_table(
        "agent_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("mode", enum_type("mode", "apply", "propose"), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        foreign_key("agent_setting", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_setting")),
    )
    op.create_index(
        "uq_agent_setting_key",
        "agent_setting",
        ["agent", sa.text("coalesce(site_id, 0)")],
        unique=True,
    )


def _agent_decision() -> None:
    op.create_table(
        "agent_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("agent", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            enum_type("decisionstatus", "proposed", "applied", "rejected", "failed", "noted"),
            nullable=False,
        ),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("demand", sa.String(length=200), nullable=True),
        sa.Column("supply", sa.String(length=200), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("explanation", sa.String(length=2000), nullable=False),
        sa.Column("command", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        foreign_key("agent_decision", "item_id", "md_item"),
        foreign_key("agent_decision", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_decision")),
        sa.UniqueConstraint("key", name=op.f("uq_agent_decision_key")),
    )
    with op.batch_alter_table("agent_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_decision_agent"), ["agent"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_decision_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("agent_decision")
    op.drop_index("uq_agent_setting_key", table_name="agent_setting")
    op.drop_table("agent_setting")
    op.drop_table("plan_price_break")
    op.drop_table("plan_cursor")
    op.drop_table("plan_dirty_item")
    op.drop_table("plan_item_projection")
