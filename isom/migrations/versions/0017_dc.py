"""distribution centre: despatch advice by SSCC, customers' shipping terms, waves"""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0017"
down_revision: str | None = "0016"

TABLES = (
    """
    dc_wave
    id          integer
    number      string 40
    carrier     string 40
    cutoff      moment
    status      enum wavestatus released picking shipped
    created_at  moment
    created_by  string 100
    UNIQUE number
    INDEX status
    """,
    """
    dc_advice
    id           integer
    number       string 64
    supplier_id  integer null
    source       string 10
    created_at   moment
    created_by   string 100
    REF supplier_id md_supplier
    UNIQUE number
    """,
    """
    dc_customer_terms
    id           integer
    customer_id  integer
    carrier      string 40
    cutoff       string 5
    gs1_labels   flag
    REF customer_id md_customer
    UNIQUE customer_id
    """,
    """
    dc_advised_pallet
    id                 integer
    advice_id          integer
    sscc               string 18
    status             enum palletstatus advised received
    received_event_id  serial null
    received_at        moment null
    received_by        string 100 null
    differences        document
    REF advice_id dc_advice
    REF received_event_id ledger_event
    UNIQUE sscc
    INDEX advice_id status
    """,
    """
    dc_advised_case
    id           integer
    pallet_id    integer
    case_code    string 64
    item_id      integer
    lot          string 64 null
    expiry_date  date null
    quantity     exact
    unit_cost    exact
    REF item_id md_item
    REF pallet_id dc_advised_pallet
    INDEX pallet_id
    """,
    """
    dc_wave_order
    id             integer
    wave_id        integer
    ship_order_id  integer
    tote           string 64 null
    package        string 64 null
    REF ship_order_id ord_ship_order
    REF wave_id dc_wave
    UNIQUE ship_order_id
    INDEX wave_id
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
