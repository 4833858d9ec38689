"""Master data: places, calendars, items, units, suppliers, customers, people, routes."""

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, json_type

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    "md_calendar",
    "md_customer",
    "md_location",
    "md_supplier",
    "md_unit",
    "md_holiday",
    "md_item",
    "md_person",
    "md_shift",
    "md_workstation",
    "md_route",
    "md_supplier_item",
    "md_unit_conversion",
    "md_route_step",
    "md_step_input",
    "md_step_output",
)


def upgrade() -> None:
    _md_calendar()
    _md_customer()
    _md_location()
    _md_supplier()
    _md_unit()
    _md_holiday()
    _md_item()
    _md_person()
    _md_shift()
    _md_workstation()
    _md_route()
    _md_supplier_item()
    _md_unit_conversion()
    _md_route_step()
    _md_step_input()
    _md_step_output()


def _md_calendar() -> None:
    op.create_table(
        "md_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_calendar")),
        sa.UniqueConstraint("code", name=op.f("uq_md_calendar_code")),
    )


def _md_customer() -> None:
    op.create_table(
        "md_customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("ship_to", sa.String(length=500), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_customer")),
        sa.UniqueConstraint("code", name=op.f("uq_md_customer_code")),
    )


def _md_location() -> None:
    op.create_table(
        "md_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            enum_type("locationkind", "site", "area", "zone", "bin", "workstation", "dock"),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        foreign_key("md_location", "parent_id", "md_location"),
        foreign_key("md_location", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_location")),
        sa.UniqueConstraint("code", name=op.f("uq_md_location_code")),
    )
    with op.batch_alter_table("md_location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_location_path"), ["path"], unique=False)


def _md_supplier() -> None:
    op.create_table(
        "md_supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_supplier")),
        sa.UniqueConstraint("code", name=op.f("uq_md_supplier_code")),
    )


def _md_unit() -> None:
    op.create_table(
        "md_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "decimals >= 0 AND decimals <= 6", name=op.f("ck_md_unit_decimals_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_md_unit_code")),
    )


def _md_holiday() -> None:
    op.create_table(
        "md_holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        foreign_key("md_holiday", "calendar_id", "md_calendar", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_holiday")),
        sa.UniqueConstraint("calendar_id", "date", name=op.f("uq_md_holiday_calendar_id_date")),
    )
    with op.batch_alter_table("md_holiday", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_md_holiday_calendar_id"), ["calendar_id"], unique=False
        )


def _md_item() -> None:
    op.create_table(
        "md_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            enum_type("itemtype", "raw", "intermediate", "finished", "packaging", "consumable"),
            nullable=False,
        ),
        sa.Column("base_unit_id", sa.Integer(), nullable=False),
        sa.Column("tracking", enum_type("tracking", "none", "lot", "serial"), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("standard_cost", isom.types.Exact(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("attributes", json_type(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("standard_cost >= 0", name=op.f("ck_md_item_standard_cost_positive")),
        foreign_key("md_item", "base_unit_id", "md_unit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_item")),
        sa.UniqueConstraint("code", name=op.f("uq_md_item_code")),
        sa.UniqueConstraint("gtin", name=op.f("uq_md_item_gtin")),
    )


def _md_person() -> None:
    op.create_table(
        "md_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("badge_code", sa.String(length=64), nullable=True),
        sa.Column("skills", json_type(), nullable=False),
        sa.Column("hourly_rate", isom.types.Exact(), nullable=False),
        sa.Column("shift", sa.String(length=64), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("hourly_rate >= 0", name=op.f("ck_md_person_non_negative")),
        foreign_key("md_person", "calendar_id", "md_calendar"),
        foreign_key("md_person", "user_id", "auth_user", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_person")),
        sa.UniqueConstraint("badge_code", name=op.f("uq_md_person_badge_code")),
        sa.UniqueConstraint("code", name=op.f("uq_md_person_code")),
    )


def _md_shift() -> None:
    op.create_table(
        "md_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_md_shift_weekday_range")),
        foreign_key("md_shift", "calendar_id", "md_calendar", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_shift")),
        sa.UniqueConstraint(
            "calendar_id", "weekday", "name", name=op.f("uq_md_shift_calendar_id_weekday_name")
        ),
    )
    with op.batch_alter_table("md_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_shift_calendar_id"), ["calendar_id"], unique=False)


def _md_workstation() -> None:
    op.create_table(
        "md_workstation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("operations", json_type(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("hourly_rate", isom.types.Exact(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "hourly_rate >= 0 AND capacity >= 1", name=op.f("ck_md_workstation_non_negative")
        ),
        foreign_key("md_workstation", "calendar_id", "md_calendar"),
        foreign_key("md_workstation", "location_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_workstation")),
        sa.UniqueConstraint("code", name=op.f("uq_md_workstation_code")),
    )
    with op.batch_alter_table("md_workstation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_workstation_kind"), ["kind"], unique=False)


def _md_route() -> None:
    op.create_table(
        "md_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=20), nullable=False),
        sa.Column("batch_size", isom.types.Exact(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("batch_size > 0", name=op.f("ck_md_route_batch_size_positive")),
        foreign_key("md_route", "item_id", "md_item"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_route")),
        sa.UniqueConstraint("code", name=op.f("uq_md_route_code")),
    )
    with op.batch_alter_table("md_route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_route_item_id"), ["item_id"], unique=False)


def _md_supplier_item() -> None:
    op.create_table(
        "md_supplier_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("supplier_item_code", sa.String(length=64), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("min_order_qty", isom.types.Exact(), nullable=False),
        sa.Column("order_multiple", isom.types.Exact(), nullable=False),
        sa.Column("price", isom.types.Exact(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "lead_time_days >= 0 AND min_order_qty >= 0 AND order_multiple >= 0 AND price >= 0",
            name=op.f("ck_md_supplier_item_non_negative"),
        ),
        foreign_key("md_supplier_item", "item_id", "md_item", ondelete="CASCADE"),
        foreign_key("md_supplier_item", "supplier_id", "md_supplier", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_supplier_item")),
        sa.UniqueConstraint(
            "supplier_id", "item_id", name=op.f("uq_md_supplier_item_supplier_id_item_id")
        ),
    )


def _md_unit_conversion() -> None:
    op.create_table(
        "md_unit_conversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("from_unit_id", sa.Integer(), nullable=False),
        sa.Column("to_unit_id", sa.Integer(), nullable=False),
        sa.Column("numerator", sa.BigInteger(), nullable=False),
        sa.Column("denominator", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "numerator > 0 AND denominator > 0", name=op.f("ck_md_unit_conversion_positive_ratio")
        ),
        foreign_key("md_unit_conversion", "from_unit_id", "md_unit"),
        foreign_key("md_unit_conversion", "item_id", "md_item", ondelete="CASCADE"),
        foreign_key("md_unit_conversion", "to_unit_id", "md_unit"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_unit_conversion")),
        sa.UniqueConstraint(
            "item_id",
            "from_unit_id",
            "to_unit_id",
            name=op.f("uq_md_unit_conversion_item_id_from_unit_id_to_unit_id"),
        ),
    )


def _md_route_step() -> None:
    op.create_table(
        "md_route_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workstation_kind", sa.String(length=64), nullable=True),
        sa.Column("skill", sa.String(length=64), nullable=True),
        sa.Column("setup_minutes", isom.types.Exact(), nullable=False),
        sa.Column("run_minutes", isom.types.Exact(), nullable=False),
        sa.Column("run_basis", enum_type("runbasis", "unit", "batch"), nullable=False),
        sa.Column("cleanup_minutes", isom.types.Exact(), nullable=False),
        sa.CheckConstraint(
            "setup_minutes >= 0 AND run_minutes >= 0 AND cleanup_minutes >= 0",
            name=op.f("ck_md_route_step_non_negative"),
        ),
        foreign_key("md_route_step", "route_id", "md_route", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_route_step")),
        sa.UniqueConstraint(
            "route_id", "sequence", name=op.f("uq_md_route_step_route_id_sequence")
        ),
    )
    with op.batch_alter_table("md_route_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_route_step_route_id"), ["route_id"], unique=False)


def _md_step_input() -> None:
    op.create_table(
        "md_step_input",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity_per", isom.types.Exact(), nullable=False),
        sa.Column("floor_stock", sa.Boolean(), nullable=False),
        sa.CheckConstraint("quantity_per > 0", name=op.f("ck_md_step_input_quantity_positive")),
        foreign_key("md_step_input", "item_id", "md_item"),
        foreign_key("md_step_input", "step_id", "md_route_step", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_step_input")),
    )
    with op.batch_alter_table("md_step_input", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_step_input_step_id"), ["step_id"], unique=False)


def _md_step_output() -> None:
    op.create_table(
        "md_step_output",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            enum_type("outputkind", "main", "intermediate", "byproduct", "scrap"),
            nullable=False,
        ),
        sa.Column("quantity_per", isom.types.Exact(), nullable=False),
        sa.CheckConstraint("quantity_per > 0", name=op.f("ck_md_step_output_quantity_positive")),
        foreign_key("md_step_output", "item_id", "md_item"),
        foreign_key("md_step_output", "step_id", "md_route_step", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_md_step_output")),
    )
    with op.batch_alter_table("md_step_output", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_md_step_output_step_id"), ["step_id"], unique=False)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
