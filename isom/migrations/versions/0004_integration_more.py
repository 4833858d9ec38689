"""Integration: EPCIS events captured from outside, and ERP inventory reconciliations."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from isom.migrations.columns import table, unique

revision: str = "0004"
down_revision: str | None = "0003"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    table(
        "epcis_captured_event",
        """
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
        """,
        unique("event_id", "declaration"),
        index=("capture_id",),
    )
    table(
        "recon_run",
        """
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


def downgrade() -> None:
    op.drop_table("recon_run")
    with op.batch_alter_table("epcis_captured_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_epcis_captured_event_capture_id"))
    op.drop_table("epcis_captured_event")
