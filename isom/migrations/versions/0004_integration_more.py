"""Integration: EPCIS events captured from outside, and ERP inventory reconciliations."""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0004"
down_revision: str | None = "0003"

TABLES = (
    """
    epcis_captured_event
    id             integer
    event_id       string 500
    declaration    flag
    content_hash   string 64
    event_type     string 40
    biz_step       string 100 null
    ledger_events  document
    capture_id     string 64
    actor          string 100
    captured_at    moment
    UNIQUE event_id declaration
    INDEX capture_id
    """,
    """
    recon_run
    id           integer
    source       string 200
    feed_head    big
    erp_rows     integer
    matched      integer
    differences  document
    created_by   string 100
    created_at   moment
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
