"""The material ledger: events, lots, containers, balances and the outbox."""

from alembic import op

from isom.migrations.columns import check, drop_tables, ref, table, unique

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
    table(
        "ledger_counter",
        """
        name   string 40
        value  big
        """,
        key=("name",),
    )


def _ledger_event() -> None:
    table(
        "ledger_event",
        """
        id                 serial
        key                string 200
        kind               enum eventkind create receive move nest unnest split merge adjust count
                               hold release consume produce scrap ship reverse
        occurred_at        moment
        recorded_at        moment
        site_id            integer null
        location_id        integer null
        actor              string 100
        user_id            integer null
        device             string 100 null
        reason             string 500 null
        reason_code        string 40 null
        reference          string 100 null
        reverses_event_id  serial null
        request_hash       string 64
        command            document
        result             document
        """,
        ref("location_id", "md_location"),
        ref("reverses_event_id", "ledger_event"),
        ref("site_id", "md_location"),
        ref("user_id", "auth_user"),
        unique("key"),
        unique("reverses_event_id"),
    )


def _ledger_container() -> None:
    table(
        "ledger_container",
        """
        id                integer
        code              string 64
        kind              string 30
        status            enum containerstatus active shipped void
        location_id       integer null
        parent_id         integer null
        site_id           integer null
        created_event_id  serial
        updated_event_id  serial
        updated_at        moment
        """,
        ref("created_event_id", "ledger_event"),
        ref("location_id", "md_location"),
        ref("parent_id", "ledger_container"),
        ref("site_id", "md_location"),
        ref("updated_event_id", "ledger_event"),
        unique("code"),
        index=("location_id", "parent_id"),
    )


def _ledger_lot() -> None:
    table(
        "ledger_lot",
        """
        id                integer
        item_id           integer
        code              string 64
        supplier_id       integer null
        supplier_lot      string 64 null
        expiry_date       date null
        created_event_id  serial null
        """,
        ref("created_event_id", "ledger_event"),
        ref("item_id", "md_item"),
        ref("supplier_id", "md_supplier"),
        unique("item_id", "code"),
    )


def _ledger_outbox() -> None:
    table(
        "ledger_outbox",
        """
        id           serial
        event_id     serial null
        topic        string 100
        message_key  string 200
        payload      document
        created_at   moment
        sent_at      moment null
        """,
        ref("event_id", "ledger_event"),
        index=("event_id",),
    )


def _ledger_balance() -> None:
    table(
        "ledger_balance",
        """
        id           integer
        site_id      integer null
        location_id  integer
        item_id      integer
        lot_id       integer null
        status       enum contentstatus available hold wip
        quantity     exact
        """,
        check("quantity >= 0", "quantity_non_negative"),
        ref("item_id", "md_item"),
        ref("location_id", "md_location"),
        ref("lot_id", "ledger_lot"),
        ref("site_id", "md_location"),
        index=("item_id", "lot_id"),
    )


def _ledger_content() -> None:
    table(
        "ledger_content",
        """
        id            integer
        container_id  integer
        item_id       integer
        lot_id        integer null
        status        enum contentstatus available hold wip
        wip_step      string 100 null
        quantity      exact
        unit_cost     exact
        """,
        check("quantity >= 0", "quantity_non_negative"),
        ref("container_id", "ledger_container"),
        ref("item_id", "md_item"),
        ref("lot_id", "ledger_lot"),
    )


def _ledger_event_line() -> None:
    table(
        "ledger_event_line",
        """
        id            serial
        event_id      serial
        container_id  integer null
        place         string 100 null
        item_id       integer
        lot_id        integer null
        status        enum contentstatus available hold wip
        wip_step      string 100 null
        quantity      exact
        unit_cost     exact
        """,
        check("(container_id IS NULL) <> (place IS NULL)", "container_xor_place"),
        ref("container_id", "ledger_container"),
        ref("event_id", "ledger_event"),
        ref("item_id", "md_item"),
        ref("lot_id", "ledger_lot"),
        index=("event_id",),
    )
    with op.batch_alter_table("ledger_event_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_event_line_container", ["container_id", "event_id"], unique=False
        )
        batch_op.create_index("ix_ledger_event_line_lot", ["lot_id", "event_id"], unique=False)
        batch_op.create_index("ix_ledger_event_line_place", ["place"], unique=False)


def _ledger_event_move() -> None:
    table(
        "ledger_event_move",
        """
        id                serial
        event_id          serial
        container_id      integer
        from_location_id  integer null
        to_location_id    integer null
        from_parent_id    integer null
        to_parent_id      integer null
        from_status       enum containerstatus active shipped void null
        to_status         enum containerstatus active shipped void null
        """,
        ref("container_id", "ledger_container"),
        ref("event_id", "ledger_event"),
        ref("from_location_id", "md_location"),
        ref("from_parent_id", "ledger_container"),
        ref("to_location_id", "md_location"),
        ref("to_parent_id", "ledger_container"),
        index=("event_id",),
    )
    with op.batch_alter_table("ledger_event_move", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_event_move_container", ["container_id", "event_id"], unique=False
        )


def _ledger_genealogy() -> None:
    table(
        "ledger_genealogy",
        """
        id                 serial
        event_id           serial
        from_lot_id        integer null
        from_container_id  integer null
        to_lot_id          integer null
        to_container_id    integer null
        item_id            integer
        quantity           exact
        """,
        ref("event_id", "ledger_event"),
        ref("from_container_id", "ledger_container"),
        ref("from_lot_id", "ledger_lot"),
        ref("item_id", "md_item"),
        ref("to_container_id", "ledger_container"),
        ref("to_lot_id", "ledger_lot"),
        index=("event_id", "from_lot_id", "to_lot_id"),
    )


def downgrade() -> None:
    drop_tables(TABLES)
