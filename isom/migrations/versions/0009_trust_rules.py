"""trust rules: per-site count tolerance, and counts beyond it awaiting approval"""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0009"
down_revision: str | None = "0008"

TABLES = (
    """
    ledger_count_rule
    site_id             integer
    tolerance_quantity  exact
    tolerance_percent   exact
    exceed_roles        document
    updated_at          moment
    updated_by          string 100
    REF site_id md_location
    KEY site_id
    """,
    """
    ledger_count_proposal
    id                integer
    count_event_id    serial
    site_id           integer null
    container_id      integer
    item_id           integer
    lot_id            integer null
    book              exact
    counted           exact
    delta             exact
    status            enum countproposalstatus pending approved rejected
    requested_by      string 100
    requested_at      moment
    decided_by        string 100 null
    decided_at        moment null
    decision_reason   string 500 null
    applied_event_id  serial null
    REF applied_event_id ledger_event
    REF container_id ledger_container
    REF count_event_id ledger_event
    REF item_id md_item
    REF lot_id ledger_lot
    REF site_id md_location
    UNIQUE count_event_id
    INDEX status
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
