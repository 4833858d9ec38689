"""Unique keys on contents and balances that treat "no lot" as one value.

Written by hand: autogenerate cannot see expression indexes. `coalesce(lot_id, 0)` makes a
missing lot compare equal, so `INSERT ... ON CONFLICT` can add to an existing balance row on
both SQLite and PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_index(
        "uq_ledger_content_key",
        "ledger_content",
        [
            "container_id",
            "item_id",
            sa.text("coalesce(lot_id, 0)"),
            "status",
            sa.text("coalesce(wip_step, '')"),
        ],
        unique=True,
    )
    op.create_index(
        "uq_ledger_balance_key",
        "ledger_balance",
        ["location_id", "item_id", sa.text("coalesce(lot_id, 0)"), "status"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_balance_key", table_name="ledger_balance")
    op.drop_index("uq_ledger_content_key", table_name="ledger_content")
