"""sites apart: the sites of users and API tokens, the site of every order and job"""

import sqlalchemy as sa
from alembic import op

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0018"
down_revision: str | None = "0017"

TABLES = (
    """
    auth_user_site
    user_id  integer
    site_id  integer
    REF site_id md_location ON DELETE CASCADE
    REF user_id auth_user ON DELETE CASCADE
    KEY user_id site_id
    """,
    """
    auth_api_token_site
    token_id  integer
    site_id   integer
    REF site_id md_location ON DELETE CASCADE
    REF token_id auth_api_token ON DELETE CASCADE
    KEY token_id site_id
    """,
)

_ORDERS = ("ord_customer_order", "ord_purchase_order", "ord_ship_order", "prod_work_order")
_HOME = "(SELECT MIN(id) FROM md_location WHERE kind = 'site')"
# Where an order's goods are tells its site; what has none yet belongs to the home site.
_BACKFILL = (
    "UPDATE ord_ship_order SET site_id = (SELECT MIN(c.site_id) FROM ord_pick p"
    " JOIN ord_ship_line l ON l.id = p.ship_line_id"
    " JOIN ledger_container c ON c.id = p.container_id WHERE l.ship_order_id = ord_ship_order.id)",
    "UPDATE ord_customer_order SET site_id = (SELECT MIN(s.site_id) FROM ord_ship_order s"
    " WHERE s.customer_order_id = ord_customer_order.id)",
    "UPDATE ord_ship_order SET site_id = (SELECT o.site_id FROM ord_customer_order o"
    " WHERE o.id = ord_ship_order.customer_order_id) WHERE site_id IS NULL",
    "UPDATE prod_work_order SET site_id = (SELECT MIN(l.site_id) FROM prod_step s"
    " JOIN md_workstation w ON w.id = s.workstation_id JOIN md_location l ON l.id = w.location_id"
    " WHERE s.work_order_id = prod_work_order.id)",
    "UPDATE ord_purchase_order SET site_id = (SELECT MIN(c.site_id) FROM ord_receipt r"
    " JOIN ord_purchase_line l ON l.id = r.purchase_line_id"
    " JOIN ledger_container c ON c.id = r.container_id WHERE l.order_id = ord_purchase_order.id)",
)


def upgrade() -> None:
    create_tables(TABLES)
    for name in _ORDERS:
        _add_site_column(name)
    for statement in _BACKFILL:
        op.execute(statement)
    for name in _ORDERS:
        op.execute(f"UPDATE {name} SET site_id = {_HOME} WHERE site_id IS NULL")


def _add_site_column(name: str) -> None:
    """The order's site: on SQLite added in place with its foreign key (a batch copy would drop
    a table that others point at, which their foreign keys refuse once there is data)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {name} ADD COLUMN site_id INTEGER "
            f"CONSTRAINT fk_{name}_site_id_md_location REFERENCES md_location (id)"
        )
    else:
        op.add_column(name, sa.Column("site_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{name}_site_id_md_location"), name, "md_location", ["site_id"], ["id"]
        )
    op.create_index(op.f(f"ix_{name}_site_id"), name, ["site_id"], unique=False)


def downgrade() -> None:
    for name in reversed(_ORDERS):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{name}_site_id_md_location"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f(f"ix_{name}_site_id"))
            batch_op.drop_column("site_id")
    drop_tables(TABLES)
