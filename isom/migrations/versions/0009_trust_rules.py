"""trust rules: per-site count tolerance, and counts beyond it awaiting approval"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from isom.migrations.columns import ref, table, unique

revision: str = "0009"
down_revision: str | None = "0008"

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    table(
        "ledger_count_rule",
        """
        site_id             integer
        tolerance_quantity  exact
        tolerance_percent   exact
        exceed_roles        document
        updated_at          moment
        updated_by          string 100
        """,
        ref("site_id", "md_location"),
        key=("site_id",),
    )
    table(
        "ledger_count_proposal",
        """
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
        """,
        ref("applied_event_id", "ledger_event"),
        ref("container_id", "ledger_container"),
        ref("count_event_id", "ledger_event"),
        ref("item_id", "md_item"),
        ref("lot_id", "ledger_lot"),
        ref("site_id", "md_location"),
        unique("count_event_id"),
        index=("status",),
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_count_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_count_proposal_status"))
    op.drop_table("ledger_count_proposal")
    op.drop_table("ledger_count_rule")
