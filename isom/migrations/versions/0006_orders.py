"""Order tables: customer and purchase orders, receipts, reservations, ship orders, picks."""

from alembic import op

from isom.migrations.columns import check, ref, table, unique

revision: str = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    _ord_counter()
    _ord_event()
    _ord_setting()
    _ord_customer_order()
    _ord_purchase_order()
    _ord_webhook_source()
    _ord_customer_line()
    _ord_purchase_line()
    _ord_ship_order()
    _ord_receipt()
    _ord_reservation()
    _ord_ship_line()
    _ord_pick()


def _ord_counter() -> None:
    table(
        "ord_counter",
        """
        name   string 20
        value  big
        """,
        key=("name",),
    )


def _ord_event() -> None:
    table(
        "ord_event",
        """
        id            serial
        key           string 200
        kind          string 40
        actor         string 100
        device        string 100 null
        recorded_at   moment
        request_hash  string 64
        command       document
        result        document
        """,
        unique("key"),
    )


def _ord_setting() -> None:
    table(
        "ord_setting",
        """
        name        string 60
        value       string 200
        updated_at  moment
        updated_by  string 100
        """,
        key=("name",),
    )


def _ord_customer_order() -> None:
    table(
        "ord_customer_order",
        """
        id             integer
        number         string 40
        customer_id    integer
        source         string 40
        external_ref   string 100 null
        priority       enum priority rush normal low
        allow_partial  flag
        ship_to        string 500
        status         enum customerorderstatus open reserved partly_shipped shipped cancelled
        note           string 1000
        created_at     moment
        updated_at     moment
        updated_by     string 100
        """,
        ref("customer_id", "md_customer"),
        unique("number"),
        unique("source", "external_ref"),
        index=("customer_id", "status"),
    )


def _ord_purchase_order() -> None:
    table(
        "ord_purchase_order",
        """
        id            integer
        number        string 40
        supplier_id   integer
        source        string 40
        external_ref  string 100 null
        currency      string 3
        status        enum purchaseorderstatus proposed approved sent partly_received received
                          cancelled closed
        note          string 1000
        created_at    moment
        approved_at   moment null
        approved_by   string 100 null
        sent_at       moment null
        updated_at    moment
        updated_by    string 100
        """,
        ref("supplier_id", "md_supplier"),
        unique("number"),
        unique("source", "external_ref"),
        index=("status", "supplier_id"),
    )


def _ord_webhook_source() -> None:
    table(
        "ord_webhook_source",
        """
        id                   integer
        name                 string 40
        secret               string 200
        default_customer_id  integer null
        active               flag
        created_at           moment
        """,
        ref("default_customer_id", "md_customer"),
        unique("name"),
    )


def _ord_customer_line() -> None:
    table(
        "ord_customer_line",
        """
        id                 integer
        order_id           integer
        line_no            integer
        item_id            integer
        quantity           exact
        due_date           date
        status             enum customerlinestatus open reserved partly_shipped shipped cancelled
        quantity_reserved  exact
        quantity_shipped   exact
        updated_at         moment
        """,
        check("quantity > 0", "quantity_positive"),
        check("quantity_reserved >= 0 AND quantity_shipped >= 0", "progress_non_negative"),
        ref("item_id", "md_item"),
        ref("order_id", "ord_customer_order", ondelete="CASCADE"),
        unique("order_id", "line_no"),
        index=("item_id", "order_id", "status"),
    )


def _ord_purchase_line() -> None:
    table(
        "ord_purchase_line",
        """
        id                 integer
        order_id           integer
        line_no            integer
        item_id            integer
        quantity           exact
        due_date           date
        unit_price         exact
        status             enum purchaselinestatus open partly_received received cancelled closed
        quantity_received  exact
        updated_at         moment
        """,
        check("quantity > 0 AND unit_price >= 0", "quantity_positive"),
        check("quantity_received >= 0", "received_non_negative"),
        ref("item_id", "md_item"),
        ref("order_id", "ord_purchase_order", ondelete="CASCADE"),
        unique("order_id", "line_no"),
        index=("item_id", "order_id", "status"),
    )


def _ord_ship_order() -> None:
    table(
        "ord_ship_order",
        """
        id                 integer
        number             string 40
        customer_order_id  integer
        status             enum shiporderstatus planned picking picked packed shipped cancelled
        ship_to            string 500
        created_at         moment
        shipped_at         moment null
        updated_at         moment
        updated_by         string 100
        """,
        ref("customer_order_id", "ord_customer_order"),
        unique("number"),
        index=("customer_order_id", "status"),
    )


def _ord_receipt() -> None:
    table(
        "ord_receipt",
        """
        id                integer
        purchase_line_id  integer
        ledger_event_id   serial
        container_id      integer
        quantity          exact
        lot_code          string 64 null
        supplier_lot      string 64 null
        expiry_date       date null
        held              flag
        received_at       moment
        received_by       string 100
        """,
        check("quantity > 0", "quantity_positive"),
        ref("container_id", "ledger_container"),
        ref("ledger_event_id", "ledger_event"),
        ref("purchase_line_id", "ord_purchase_line"),
        index=("purchase_line_id",),
    )


def _ord_reservation() -> None:
    table(
        "ord_reservation",
        """
        id                integer
        customer_line_id  integer
        container_id      integer
        item_id           integer
        lot_id            integer null
        quantity          exact
        status            enum reservationstatus active shipped released
        created_at        moment
        created_by        string 100
        """,
        check("quantity > 0", "quantity_positive"),
        ref("container_id", "ledger_container"),
        ref("customer_line_id", "ord_customer_line"),
        ref("item_id", "md_item"),
        ref("lot_id", "ledger_lot"),
        index=("container_id", "customer_line_id", "item_id", "status"),
    )


def _ord_ship_line() -> None:
    table(
        "ord_ship_line",
        """
        id                integer
        ship_order_id     integer
        customer_line_id  integer
        quantity          exact
        quantity_picked   exact
        quantity_shipped  exact
        """,
        check("quantity > 0", "quantity_positive"),
        ref("customer_line_id", "ord_customer_line"),
        ref("ship_order_id", "ord_ship_order", ondelete="CASCADE"),
        unique("ship_order_id", "customer_line_id"),
        index=("customer_line_id", "ship_order_id"),
    )


def _ord_pick() -> None:
    table(
        "ord_pick",
        """
        id                    integer
        ship_line_id          integer
        sequence              integer
        container_id          integer
        item_id               integer
        lot_id                integer null
        quantity              exact
        whole_container       flag
        status                enum pickstatus open picked packed shipped cancelled
        picked_quantity       exact
        picked_container_id   integer null
        package_container_id  integer null
        picked_at             moment null
        picked_by             string 100 null
        """,
        check("quantity > 0", "quantity_positive"),
        ref("container_id", "ledger_container"),
        ref("item_id", "md_item"),
        ref("lot_id", "ledger_lot"),
        ref("package_container_id", "ledger_container"),
        ref("picked_container_id", "ledger_container"),
        ref("ship_line_id", "ord_ship_line", ondelete="CASCADE"),
        index=("container_id", "ship_line_id", "status"),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ord_pick_status"), table_name="ord_pick")
    op.drop_index(op.f("ix_ord_pick_ship_line_id"), table_name="ord_pick")
    op.drop_index(op.f("ix_ord_pick_container_id"), table_name="ord_pick")
    op.drop_table("ord_pick")
    op.drop_index(op.f("ix_ord_ship_line_ship_order_id"), table_name="ord_ship_line")
    op.drop_index(op.f("ix_ord_ship_line_customer_line_id"), table_name="ord_ship_line")
    op.drop_table("ord_ship_line")
    op.drop_index(op.f("ix_ord_reservation_status"), table_name="ord_reservation")
    op.drop_index(op.f("ix_ord_reservation_item_id"), table_name="ord_reservation")
    op.drop_index(op.f("ix_ord_reservation_customer_line_id"), table_name="ord_reservation")
    op.drop_index(op.f("ix_ord_reservation_container_id"), table_name="ord_reservation")
    op.drop_table("ord_reservation")
    op.drop_index(op.f("ix_ord_receipt_purchase_line_id"), table_name="ord_receipt")
    op.drop_table("ord_receipt")
    op.drop_index(op.f("ix_ord_ship_order_status"), table_name="ord_ship_order")
    op.drop_index(op.f("ix_ord_ship_order_customer_order_id"), table_name="ord_ship_order")
    op.drop_table("ord_ship_order")
    op.drop_index(op.f("ix_ord_purchase_line_status"), table_name="ord_purchase_line")
    op.drop_index(op.f("ix_ord_purchase_line_order_id"), table_name="ord_purchase_line")
    op.drop_index(op.f("ix_ord_purchase_line_item_id"), table_name="ord_purchase_line")
    op.drop_table("ord_purchase_line")
    op.drop_index(op.f("ix_ord_customer_line_status"), table_name="ord_customer_line")
    op.drop_index(op.f("ix_ord_customer_line_order_id"), table_name="ord_customer_line")
    op.drop_index(op.f("ix_ord_customer_line_item_id"), table_name="ord_customer_line")
    op.drop_table("ord_customer_line")
    op.drop_table("ord_webhook_source")
    op.drop_index(op.f("ix_ord_purchase_order_supplier_id"), table_name="ord_purchase_order")
    op.drop_index(op.f("ix_ord_purchase_order_status"), table_name="ord_purchase_order")
    op.drop_table("ord_purchase_order")
    op.drop_index(op.f("ix_ord_customer_order_status"), table_name="ord_customer_order")
    op.drop_index(op.f("ix_ord_customer_order_customer_id"), table_name="ord_customer_order")
    op.drop_table("ord_customer_order")
    op.drop_table("ord_setting")
    op.drop_table("ord_event")
    op.drop_table("ord_counter")
