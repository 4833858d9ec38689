"""Master data: places, calendars, items, units, suppliers, customers, people, routes."""

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    """
    md_calendar
    id        integer
    code      string 64
    name      string 200
    timezone  string 64
    active    flag
    UNIQUE code
    """,
    """
    md_customer
    id       integer
    code     string 64
    name     string 200
    email    string 200 null
    ship_to  string 500
    phone    string 50 null
    active   flag
    UNIQUE code
    """,
    """
    md_location
    id         integer
    code       string 64
    name       string 200
    kind       enum locationkind site area zone bin workstation dock
    parent_id  integer null
    site_id    integer null
    path       string 400
    timezone   string 64
    active     flag
    REF parent_id md_location
    REF site_id md_location
    UNIQUE code
    INDEX path
    """,
    """
    md_supplier
    id        integer
    code      string 64
    name      string 200
    email     string 200 null
    phone     string 50 null
    currency  string 3
    active    flag
    UNIQUE code
    """,
    """
    md_unit
    id        integer
    code      string 20
    name      string 80
    decimals  integer
    active    flag
    CHECK decimals_range: decimals >= 0 AND decimals <= 6
    UNIQUE code
    """,
    """
    md_holiday
    id           integer
    calendar_id  integer
    date         date
    name         string 200
    REF calendar_id md_calendar ON DELETE CASCADE
    UNIQUE calendar_id date
    INDEX calendar_id
    """,
    """
    md_item
    id               integer
    code             string 64
    name             string 200
    type             enum itemtype raw intermediate finished packaging consumable
    base_unit_id     integer
    tracking         enum tracking none lot serial
    shelf_life_days  integer null
    standard_cost    exact
    gtin             string 14 null
    attributes       document
    description      string 1000
    active           flag
    CHECK standard_cost_positive: standard_cost >= 0
    REF base_unit_id md_unit
    UNIQUE code
    UNIQUE gtin
    """,
    """
    md_person
    id           integer
    code         string 64
    name         string 200
    badge_code   string 64 null
    skills       document
    hourly_rate  exact
    shift        string 64 null
    calendar_id  integer null
    user_id      integer null
    active       flag
    CHECK non_negative: hourly_rate >= 0
    REF calendar_id md_calendar
    REF user_id auth_user ON DELETE SET NULL
    UNIQUE badge_code
    UNIQUE code
    """,
    """
    md_shift
    id           integer
    calendar_id  integer
    name         string 64
    weekday      integer
    start_time   time
    end_time     time
    CHECK weekday_range: weekday >= 0 AND weekday <= 6
    REF calendar_id md_calendar ON DELETE CASCADE
    UNIQUE calendar_id weekday name
    INDEX calendar_id
    """,
    """
    md_workstation
    id           integer
    code         string 64
    name         string 200
    kind         string 64
    location_id  integer null
    operations   document
    capacity     integer
    hourly_rate  exact
    calendar_id  integer null
    active       flag
    CHECK non_negative: hourly_rate >= 0 AND capacity >= 1
    REF calendar_id md_calendar
    REF location_id md_location
    UNIQUE code
    INDEX kind
    """,
    """
    md_route
    id          integer
    code        string 64
    name        string 200
    item_id     integer
    revision    string 20
    batch_size  exact
    active      flag
    CHECK batch_size_positive: batch_size > 0
    REF item_id md_item
    UNIQUE code
    INDEX item_id
    """,
    """
    md_supplier_item
    id                  integer
    supplier_id         integer
    item_id             integer
    supplier_item_code  string 64 null
    lead_time_days      integer
    min_order_qty       exact
    order_multiple      exact
    price               exact
    currency            string 3
    preferred           flag
    valid_from          date null
    CHECK non_negative: lead_time_days >= 0 AND min_order_qty >= 0 AND order_multiple >= 0 AND
        price >= 0
    REF item_id md_item ON DELETE CASCADE
    REF supplier_id md_supplier ON DELETE CASCADE
    UNIQUE supplier_id item_id
    """,
    """
    md_unit_conversion
    id            integer
    item_id       integer null
    from_unit_id  integer
    to_unit_id    integer
    numerator     big
    denominator   big
    CHECK positive_ratio: numerator > 0 AND denominator > 0
    REF from_unit_id md_unit
    REF item_id md_item ON DELETE CASCADE
    REF to_unit_id md_unit
    UNIQUE item_id from_unit_id to_unit_id
    """,
    """
    md_route_step
    id                integer
    route_id          integer
    sequence          integer
    operation         string 64
    name              string 200
    workstation_kind  string 64 null
    skill             string 64 null
    setup_minutes     exact
    run_minutes       exact
    run_basis         enum runbasis unit batch
    cleanup_minutes   exact
    CHECK non_negative: setup_minutes >= 0 AND run_minutes >= 0 AND cleanup_minutes >= 0
    REF route_id md_route ON DELETE CASCADE
    UNIQUE route_id sequence
    INDEX route_id
    """,
    """
    md_step_input
    id            integer
    step_id       integer
    item_id       integer
    quantity_per  exact
    floor_stock   flag
    CHECK quantity_positive: quantity_per > 0
    REF item_id md_item
    REF step_id md_route_step ON DELETE CASCADE
    INDEX step_id
    """,
    """
    md_step_output
    id            integer
    step_id       integer
    item_id       integer
    kind          enum outputkind main intermediate byproduct scrap
    quantity_per  exact
    CHECK quantity_positive: quantity_per > 0
    REF item_id md_item
    REF step_id md_route_step ON DELETE CASCADE
    INDEX step_id
    """,
)
