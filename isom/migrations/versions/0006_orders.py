"""Order tables: customer and purchase orders, receipts, reservations, ship orders, picks."""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0006"
down_revision: str | None = "0005"

TABLES = (
    """
    ord_counter
    name   string 20
    value  big
    KEY name
    """,
    """
    ord_event
    id            serial
    key           string 200
    kind          string 40
    actor         string 100
    device        string 100 null
    recorded_at   moment
    request_hash  string 64
    command       document
    result        document
    UNIQUE key
    """,
    """
    ord_setting
    name        string 60
    value       string 200
    updated_at  moment
    updated_by  string 100
    KEY name
    """,
    """
    ord_customer_order
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
    REF customer_id md_customer
    UNIQUE number
    UNIQUE source external_ref
    INDEX customer_id status
    """,
    """
    ord_purchase_order
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
    REF supplier_id md_supplier
    UNIQUE number
    UNIQUE source external_ref
    INDEX status supplier_id
    """,
    """
    ord_webhook_source
    id                   integer
    name                 string 40
    secret               string 200
    default_customer_id  integer null
    active               flag
    created_at           moment
    REF default_customer_id md_customer
    UNIQUE name
    """,
    """
    ord_customer_line
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
    CHECK quantity_positive: quantity > 0
    CHECK progress_non_negative: quantity_reserved >= 0 AND quantity_shipped >= 0
    REF item_id md_item
    REF order_id ord_customer_order ON DELETE CASCADE
    UNIQUE order_id line_no
    INDEX item_id order_id status
    """,
    """
    ord_purchase_line
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
    CHECK quantity_positive: quantity > 0 AND unit_price >= 0
    CHECK received_non_negative: quantity_received >= 0
    REF item_id md_item
    REF order_id ord_purchase_order ON DELETE CASCADE
    UNIQUE order_id line_no
    INDEX item_id order_id status
    """,
    """
    ord_ship_order
    id                 integer
    number             string 40
    customer_order_id  integer
    status             enum shiporderstatus planned picking picked packed shipped cancelled
    ship_to            string 500
    created_at         moment
    shipped_at         moment null
    updated_at         moment
    updated_by         string 100
    REF customer_order_id ord_customer_order
    UNIQUE number
    INDEX customer_order_id status
    """,
    """
    ord_receipt
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
    CHECK quantity_positive: quantity > 0
    REF container_id ledger_container
    REF ledger_event_id ledger_event
    REF purchase_line_id ord_purchase_line
    INDEX purchase_line_id
    """,
    """
    ord_reservation
    id                integer
    customer_line_id  integer
    container_id      integer
    item_id           integer
    lot_id            integer null
    quantity          exact
    status            enum reservationstatus active shipped released
    created_at        moment
    created_by        string 100
    CHECK quantity_positive: quantity > 0
    REF container_id ledger_container
    REF customer_line_id ord_customer_line
    REF item_id md_item
    REF lot_id ledger_lot
    INDEX container_id customer_line_id item_id status
    """,
    """
    ord_ship_line
    id                integer
    ship_order_id     integer
    customer_line_id  integer
    quantity          exact
    quantity_picked   exact
    quantity_shipped  exact
    CHECK quantity_positive: quantity > 0
    REF customer_line_id ord_customer_line
    REF ship_order_id ord_ship_order ON DELETE CASCADE
    UNIQUE ship_order_id customer_line_id
    INDEX customer_line_id ship_order_id
    """,
    """
    ord_pick
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
    CHECK quantity_positive: quantity > 0
    REF container_id ledger_container
    REF item_id md_item
    REF lot_id ledger_lot
    REF package_container_id ledger_container
    REF picked_container_id ledger_container
    REF ship_line_id ord_ship_line ON DELETE CASCADE
    INDEX container_id ship_line_id status
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
