"""planning and agents: stored projections, dirty marks, cursors, price breaks, decisions"""

import sqlalchemy as sa
from alembic import op

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0007"
down_revision: str | None = "0006"

TABLES = (
    """
    plan_item_projection
    item_id              integer
    on_hand              exact
    end_quantity         exact
    first_shortage_date  date null
    shortage_quantity    exact
    entries              document
    pegging              document
    computed_at          moment
    REF item_id md_item
    KEY item_id
    INDEX first_shortage_date
    """,
    """
    plan_dirty_item
    item_id    integer
    marked_at  moment
    REF item_id md_item
    KEY item_id
    """,
    """
    plan_cursor
    name      string 40
    position  big
    KEY name
    """,
    """
    plan_price_break
    id                integer
    supplier_item_id  integer
    min_quantity      exact
    price             exact
    CHECK non_negative: min_quantity > 0 AND price >= 0
    REF supplier_item_id md_supplier_item ON DELETE CASCADE
    INDEX supplier_item_id
    """,
    """
    agent_setting
    id          integer
    agent       string 40
    site_id     integer null
    mode        enum mode apply propose
    enabled     flag
    updated_at  moment
    updated_by  string 100
    REF site_id md_location
    """,
    """
    agent_decision
    id           integer
    key          string 200
    agent        string 40
    kind         string 40
    status       enum decisionstatus proposed applied rejected failed noted
    site_id      integer null
    priority     integer
    item_id      integer null
    demand       string 200 null
    supply       string 200 null
    date         date null
    rule         string 80
    explanation  string 2000
    command      document
    result       document
    created_at   moment
    decided_at   moment null
    decided_by   string 100 null
    reason       string 500 null
    REF item_id md_item
    REF site_id md_location
    UNIQUE key
    INDEX agent status
    """,
)


def upgrade() -> None:
    create_tables(TABLES)
    _agent_setting_indexes()


def _agent_setting_indexes() -> None:
    op.create_index(
        "uq_agent_setting_key",
        "agent_setting",
        ["agent", sa.text("coalesce(site_id, 0)")],
        unique=True,
    )


def downgrade() -> None:
    drop_tables(TABLES)
