"""The material ledger: events, lots, containers, balances and the outbox."""

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    """
    ledger_counter
    name   string 40
    value  big
    KEY name
    """,
    """
    ledger_event
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
    REF location_id md_location
    REF reverses_event_id ledger_event
    REF site_id md_location
    REF user_id auth_user
    UNIQUE key
    UNIQUE reverses_event_id
    """,
    """
    ledger_container
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
    REF created_event_id ledger_event
    REF location_id md_location
    REF parent_id ledger_container
    REF site_id md_location
    REF updated_event_id ledger_event
    UNIQUE code
    INDEX location_id parent_id
    """,
    """
    ledger_lot
    id                integer
    item_id           integer
    code              string 64
    supplier_id       integer null
    supplier_lot      string 64 null
    expiry_date       date null
    created_event_id  serial null
    REF created_event_id ledger_event
    REF item_id md_item
    REF supplier_id md_supplier
    UNIQUE item_id code
    """,
    """
    ledger_outbox
    id           serial
    event_id     serial null
    topic        string 100
    message_key  string 200
    payload      document
    created_at   moment
    sent_at      moment null
    REF event_id ledger_event
    INDEX event_id
    """,
    """
    ledger_balance
    id           integer
    site_id      integer null
    location_id  integer
    item_id      integer
    lot_id       integer null
    status       enum contentstatus available hold wip
    quantity     exact
    CHECK quantity_non_negative: quantity >= 0
    REF item_id md_item
    REF location_id md_location
    REF lot_id ledger_lot
    REF site_id md_location
    INDEX item_id lot_id
    """,
    """
    ledger_content
    id            integer
    container_id  integer
    item_id       integer
    lot_id        integer null
    status        enum contentstatus available hold wip
    wip_step      string 100 null
    quantity      exact
    unit_cost     exact
    CHECK quantity_non_negative: quantity >= 0
    REF container_id ledger_container
    REF item_id md_item
    REF lot_id ledger_lot
    """,
    """
    ledger_event_line
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
    CHECK container_xor_place: (container_id IS NULL) <> (place IS NULL)
    REF container_id ledger_container
    REF event_id ledger_event
    REF item_id md_item
    REF lot_id ledger_lot
    INDEX event_id
    INDEX ix_ledger_event_line_container: container_id event_id
    INDEX ix_ledger_event_line_lot: lot_id event_id
    INDEX ix_ledger_event_line_place: place
    """,
    """
    ledger_event_move
    id                serial
    event_id          serial
    container_id      integer
    from_location_id  integer null
    to_location_id    integer null
    from_parent_id    integer null
    to_parent_id      integer null
    from_status       enum containerstatus active shipped void null
    to_status         enum containerstatus active shipped void null
    REF container_id ledger_container
    REF event_id ledger_event
    REF from_location_id md_location
    REF from_parent_id ledger_container
    REF to_location_id md_location
    REF to_parent_id ledger_container
    INDEX event_id
    INDEX ix_ledger_event_move_container: container_id event_id
    """,
    """
    ledger_genealogy
    id                 serial
    event_id           serial
    from_lot_id        integer null
    from_container_id  integer null
    to_lot_id          integer null
    to_container_id    integer null
    item_id            integer
    quantity           exact
    REF event_id ledger_event
    REF from_container_id ledger_container
    REF from_lot_id ledger_lot
    REF item_id md_item
    REF to_container_id ledger_container
    REF to_lot_id ledger_lot
    INDEX event_id from_lot_id to_lot_id
    """,
)
