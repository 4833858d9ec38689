"""Production (work orders, steps, events, labour, machine time) and costing's overhead rates."""

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, json_type

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    "cost_overhead_rate",
    "prod_work_order",
    "prod_step",
    "prod_event",
    "prod_step_material",
    "prod_labour",
    "prod_machine",
)


def upgrade() -> None:
    _cost_overhead_rate()
    _prod_work_order()
    _prod_step()
    _prod_event()
    _prod_step_material()
    _prod_labour()
    _prod_machine()


def _cost_overhead_rate() -> None:
    op.create_table(
        "cost_overhead_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workstation_id", sa.Integer(), nullable=False),
        sa.Column("hourly_rate", isom.types.Exact(), nullable=False),
        sa.CheckConstraint("hourly_rate >= 0", name=op.f("ck_cost_overhead_rate_non_negative")),
        foreign_key("cost_overhead_rate", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_overhead_rate")),
        sa.UniqueConstraint("workstation_id", name=op.f("uq_cost_overhead_rate_workstation_id")),
    )


def _prod_work_order() -> None:
    op.create_table(
        "prod_work_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("customer_line", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            enum_type(
                "workorderstatus",
                "planned",
                "released",
                "in_progress",
                "complete",
                "closed",
                "cancelled",
            ),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("parent_step_sequence", sa.Integer(), nullable=True),
        sa.Column("route_code", sa.String(length=64), nullable=True),
        sa.Column("route_revision", sa.String(length=20), nullable=True),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("released_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_prod_work_order_quantity_positive")),
        foreign_key("prod_work_order", "item_id", "md_item"),
        foreign_key("prod_work_order", "parent_id", "prod_work_order"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prod_work_order")),
        sa.UniqueConstraint("number", name=op.f("uq_prod_work_order_number")),
    )
    with op.batch_alter_table("prod_work_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prod_work_order_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prod_work_order_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_prod_work_order_status"), ["status"], unique=False)


def _prod_step() -> None:
    op.create_table(
        "prod_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workstation_kind", sa.String(length=64), nullable=True),
        sa.Column("skill", sa.String(length=64), nullable=True),
        sa.Column("setup_minutes", isom.types.Exact(), nullable=False),
        sa.Column("run_minutes_per_unit", isom.types.Exact(), nullable=False),
        sa.Column("cleanup_minutes", isom.types.Exact(), nullable=False),
        sa.Column("standard_minutes", isom.types.Exact(), nullable=False),
        sa.Column("std_labour_rate", isom.types.Exact(), nullable=False),
        sa.Column("std_machine_rate", isom.types.Exact(), nullable=False),
        sa.Column(
            "status",
            enum_type("stepstatus", "waiting", "ready", "running", "paused", "done"),
            nullable=False,
        ),
        sa.Column("workstation_id", sa.Integer(), nullable=True),
        sa.Column("actual_start", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("actual_end", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("quantity_in", isom.types.Exact(), nullable=False),
        sa.Column("quantity_good", isom.types.Exact(), nullable=False),
        sa.Column("quantity_scrap", isom.types.Exact(), nullable=False),
        sa.Column("quantity_rework", isom.types.Exact(), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        foreign_key("prod_step", "work_order_id", "prod_work_order", ondelete="CASCADE"),
        foreign_key("prod_step", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prod_step")),
        sa.UniqueConstraint(
            "work_order_id", "sequence", name=op.f("uq_prod_step_work_order_id_sequence")
        ),
    )
    with op.batch_alter_table("prod_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prod_step_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prod_step_work_order_id"), ["work_order_id"], unique=False
        )


def _prod_event() -> None:
    op.create_table(
        "prod_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("workstation_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("command", json_type(), nullable=False),
        sa.Column("result", json_type(), nullable=False),
        foreign_key("prod_event", "person_id", "md_person"),
        foreign_key("prod_event", "step_id", "prod_step"),
        foreign_key("prod_event", "work_order_id", "prod_work_order"),
        foreign_key("prod_event", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prod_event")),
        sa.UniqueConstraint("key", name=op.f("uq_prod_event_key")),
    )
    with op.batch_alter_table("prod_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prod_event_work_order_id"), ["work_order_id"], unique=False
        )


def _prod_step_material() -> None:
    op.create_table(
        "prod_step_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            enum_type("materialrole", "input", "main", "intermediate", "byproduct", "scrap"),
            nullable=False,
        ),
        sa.Column("quantity_per", isom.types.Exact(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("floor_stock", sa.Boolean(), nullable=False),
        sa.Column("std_unit_cost", isom.types.Exact(), nullable=False),
        foreign_key("prod_step_material", "item_id", "md_item"),
        foreign_key("prod_step_material", "step_id", "prod_step", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prod_step_material")),
    )
    with op.batch_alter_table("prod_step_material", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prod_step_material_step_id"), ["step_id"], unique=False
        )


def _prod_labour() -> None:
    op.create_table(
        "prod_labour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("workstation_id", sa.Integer(), nullable=False),
        sa.Column("started_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "start_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "end_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        foreign_key("prod_labour", "end_event_id", "prod_event"),
        foreign_key("prod_labour", "person_id", "md_person"),
        foreign_key("prod_labour", "start_event_id", "prod_event"),
        foreign_key("prod_labour", "step_id", "prod_step"),
        foreign_key("prod_labour", "work_order_id", "prod_work_order"),
        foreign_key("prod_labour", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prod_labour")),
    )
    with op.batch_alter_table("prod_labour", schema=None) as batch_op:
        batch_op.create_index("ix_prod_labour_open", ["person_id", "ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_prod_labour_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prod_labour_step_id"), ["step_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_prod_labour_work_order_id"), ["work_order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prod_labour_workstation_id"), ["workstation_id"], unique=False
        )


def _prod_machine() -> None:
    op.create_table(
        "prod_machine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workstation_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            enum_type("machinestate", "setup", "run", "idle", "down", "cleanup"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("started_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        foreign_key("prod_machine", "event_id", "prod_event"),
        foreign_key("prod_machine", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prod_machine")),
    )
    with op.batch_alter_table("prod_machine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prod_machine_workstation_id"), ["workstation_id"], unique=False
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
