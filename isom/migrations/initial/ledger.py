"""The material ledger: events, lots, containers, balances and the outbox."""

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, json_type

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    "ledger_counter",
    "ledger_event",
    "ledger_container",
    "ledger_lot",
    "ledger_outbox",
    "ledger_balance",
    "ledger_content",
    "ledger_event_line",
    "ledger_event_move",
    "ledger_genealogy",
)


def upgrade() -> None:
    _ledger_counter()
    _ledger_event()
    _ledger_container()
    _ledger_lot()
    _ledger_outbox()
    _ledger_balance()
    _ledger_content()
    _ledger_event_line()
    _ledger_event_move()
    _ledger_genealogy()


def _ledger_counter() -> None:
    op.create_table(
        "ledger_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_counter")),
    )


def _ledger_event() -> None:
    op.create_table(
        "ledger_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            enum_type(
                "eventkind",
                "create",
                "receive",
                "move",
                "nest",
                "unnest",
                "split",
                "merge",
                "adjust",
                "count",
                "hold",
                "release",
                "consume",
                "produce",
                "scrap",
                "ship",
                "reverse",
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("device", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column(
            "reverses_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("command", json_type(), nullable=False),
        sa.Column("result", json_type(), nullable=False),
        foreign_key("ledger_event", "location_id", "md_location"),
        foreign_key("ledger_event", "reverses_event_id", "ledger_event"),
        foreign_key("ledger_event", "site_id", "md_location"),
        foreign_key("ledger_event", "user_id", "auth_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_event")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_event_key")),
        sa.UniqueConstraint("reverses_event_id", name=op.f("uq_ledger_event_reverses_event_id")),
    )


def _ledger_container() -> None:
    op.create_table(
        "ledger_container",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column(
            "status", enum_type("containerstatus", "active", "shipped", "void"), nullable=False
        ),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "updated_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("ledger_container", "created_event_id", "ledger_event"),
        foreign_key("ledger_container", "location_id", "md_location"),
        foreign_key("ledger_container", "parent_id", "ledger_container"),
        foreign_key("ledger_container", "site_id", "md_location"),
        foreign_key("ledger_container", "updated_event_id", "ledger_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_container")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_container_code")),
    )
    with op.batch_alter_table("ledger_container", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_container_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_container_parent_id"), ["parent_id"], unique=False
        )


def _ledger_lot() -> None:
    op.create_table(
        "ledger_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("supplier_lot", sa.String(length=64), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column(
            "created_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        foreign_key("ledger_lot", "created_event_id", "ledger_event"),
        foreign_key("ledger_lot", "item_id", "md_item"),
        foreign_key("ledger_lot", "supplier_id", "md_supplier"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_lot")),
        sa.UniqueConstraint("item_id", "code", name=op.f("uq_ledger_lot_item_id_code")),
    )


def _ledger_outbox() -> None:
    op.create_table(
        "ledger_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("payload", json_type(), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        foreign_key("ledger_outbox", "event_id", "ledger_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_outbox")),
    )
    with op.batch_alter_table("ledger_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_outbox_event_id"), ["event_id"], unique=False)


def _ledger_balance() -> None:
    op.create_table(
        "ledger_balance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("status", enum_type("contentstatus", "available", "hold", "wip"), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_ledger_balance_quantity_non_negative")),
        foreign_key("ledger_balance", "item_id", "md_item"),
        foreign_key("ledger_balance", "location_id", "md_location"),
        foreign_key("ledger_balance", "lot_id", "ledger_lot"),
        foreign_key("ledger_balance", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_balance")),
    )
    with op.batch_alter_table("ledger_balance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_balance_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_balance_lot_id"), ["lot_id"], unique=False)


def _ledger_content() -> None:
    op.create_table(
        "ledger_content",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("status", enum_type("contentstatus", "available", "hold", "wip"), nullable=False),
        sa.Column("wip_step", sa.String(length=100), nullable=True),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("unit_cost", isom.types.Exact(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_ledger_content_quantity_non_negative")),
        foreign_key("ledger_content", "container_id", "ledger_container"),
        foreign_key("ledger_content", "item_id", "md_item"),
        foreign_key("ledger_content", "lot_id", "ledger_lot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_content")),
    )


def _ledger_event_line() -> None:
    op.create_table(
        "ledger_event_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("status", enum_type("contentstatus", "available", "hold", "wip"), nullable=False),
        sa.Column("wip_step", sa.String(length=100), nullable=True),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        sa.Column("unit_cost", isom.types.Exact(), nullable=False),
        sa.CheckConstraint(
            "(container_id IS NULL) <> (place IS NULL)",
            name=op.f("ck_ledger_event_line_container_xor_place"),
        ),
        foreign_key("ledger_event_line", "container_id", "ledger_container"),
        foreign_key("ledger_event_line", "event_id", "ledger_event"),
        foreign_key("ledger_event_line", "item_id", "md_item"),
        foreign_key("ledger_event_line", "lot_id", "ledger_lot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_event_line")),
    )
    with op.batch_alter_table("ledger_event_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_event_line_container", ["container_id", "event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_event_line_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index("ix_ledger_event_line_lot", ["lot_id", "event_id"], unique=False)
        batch_op.create_index("ix_ledger_event_line_place", ["place"], unique=False)


def _ledger_event_move() -> None:
    op.create_table(
        "ledger_event_move",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=True),
        sa.Column("to_location_id", sa.Integer(), nullable=True),
        sa.Column("from_parent_id", sa.Integer(), nullable=True),
        sa.Column("to_parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "from_status", enum_type("containerstatus", "active", "shipped", "void"), nullable=True
        ),
        sa.Column(
            "to_status", enum_type("containerstatus", "active", "shipped", "void"), nullable=True
        ),
        foreign_key("ledger_event_move", "container_id", "ledger_container"),
        foreign_key("ledger_event_move", "event_id", "ledger_event"),
        foreign_key("ledger_event_move", "from_location_id", "md_location"),
        foreign_key("ledger_event_move", "from_parent_id", "ledger_container"),
        foreign_key("ledger_event_move", "to_location_id", "md_location"),
        foreign_key("ledger_event_move", "to_parent_id", "ledger_container"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_event_move")),
    )
    with op.batch_alter_table("ledger_event_move", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_event_move_container", ["container_id", "event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_event_move_event_id"), ["event_id"], unique=False
        )


def _ledger_genealogy() -> None:
    op.create_table(
        "ledger_genealogy",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_lot_id", sa.Integer(), nullable=True),
        sa.Column("from_container_id", sa.Integer(), nullable=True),
        sa.Column("to_lot_id", sa.Integer(), nullable=True),
        sa.Column("to_container_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", isom.types.Exact(), nullable=False),
        foreign_key("ledger_genealogy", "event_id", "ledger_event"),
        foreign_key("ledger_genealogy", "from_container_id", "ledger_container"),
        foreign_key("ledger_genealogy", "from_lot_id", "ledger_lot"),
        foreign_key("ledger_genealogy", "item_id", "md_item"),
        foreign_key("ledger_genealogy", "to_container_id", "ledger_container"),
        foreign_key("ledger_genealogy", "to_lot_id", "ledger_lot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_genealogy")),
    )
    with op.batch_alter_table("ledger_genealogy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_genealogy_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_genealogy_from_lot_id"), ["from_lot_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_genealogy_to_lot_id"), ["to_lot_id"], unique=False
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
