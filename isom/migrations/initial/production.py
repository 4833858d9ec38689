"""Production (work orders, steps, events, labour, machine time) and costing's overhead rates."""

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    """
    cost_overhead_rate
    id              integer
    workstation_id  integer
    hourly_rate     exact
    CHECK non_negative: hourly_rate >= 0
    REF workstation_id md_workstation
    UNIQUE workstation_id
    """,
    """
    prod_work_order
    id                    integer
    number                string 40 null
    item_id               integer
    quantity              exact
    due_date              date
    customer_line         string 100 null
    status                enum workorderstatus planned released in_progress complete closed
                              cancelled
    parent_id             integer null
    parent_step_sequence  integer null
    route_code            string 64 null
    route_revision        string 20 null
    created_at            moment
    released_at           moment null
    started_at            moment null
    completed_at          moment null
    updated_at            moment
    updated_by            string 100
    CHECK quantity_positive: quantity > 0
    REF item_id md_item
    REF parent_id prod_work_order
    UNIQUE number
    INDEX item_id parent_id status
    """,
    """
    prod_step
    id                    integer
    work_order_id         integer
    sequence              integer
    operation             string 64
    name                  string 200
    workstation_kind      string 64 null
    skill                 string 64 null
    setup_minutes         exact
    run_minutes_per_unit  exact
    cleanup_minutes       exact
    standard_minutes      exact
    std_labour_rate       exact
    std_machine_rate      exact
    status                enum stepstatus waiting ready running paused done
    workstation_id        integer null
    actual_start          moment null
    actual_end            moment null
    last_event_at         moment null
    quantity_in           exact
    quantity_good         exact
    quantity_scrap        exact
    quantity_rework       exact
    updated_at            moment
    updated_by            string 100
    REF work_order_id prod_work_order ON DELETE CASCADE
    REF workstation_id md_workstation
    UNIQUE work_order_id sequence
    INDEX status work_order_id
    """,
    """
    prod_event
    id              serial
    key             string 200
    kind            string 30
    work_order_id   integer null
    step_id         integer null
    person_id       integer null
    workstation_id  integer null
    actor           string 100
    device          string 100 null
    occurred_at     moment
    recorded_at     moment
    request_hash    string 64
    command         document
    result          document
    REF person_id md_person
    REF step_id prod_step
    REF work_order_id prod_work_order
    REF workstation_id md_workstation
    UNIQUE key
    INDEX work_order_id
    """,
    """
    prod_step_material
    id             integer
    step_id        integer
    item_id        integer
    role           enum materialrole input main intermediate byproduct scrap
    quantity_per   exact
    quantity       exact
    floor_stock    flag
    std_unit_cost  exact
    REF item_id md_item
    REF step_id prod_step ON DELETE CASCADE
    INDEX step_id
    """,
    """
    prod_labour
    id              integer
    step_id         integer
    work_order_id   integer
    person_id       integer
    workstation_id  integer
    started_at      moment
    ended_at        moment null
    start_event_id  serial
    end_event_id    serial null
    REF end_event_id prod_event
    REF person_id md_person
    REF start_event_id prod_event
    REF step_id prod_step
    REF work_order_id prod_work_order
    REF workstation_id md_workstation
    INDEX person_id step_id work_order_id workstation_id
    INDEX ix_prod_labour_open: person_id ended_at
    """,
    """
    prod_machine
    id              integer
    workstation_id  integer
    state           enum machinestate setup run idle down cleanup
    reason          string 200 null
    started_at      moment
    ended_at        moment null
    event_id        serial
    REF event_id prod_event
    REF workstation_id md_workstation
    INDEX workstation_id
    """,
)
