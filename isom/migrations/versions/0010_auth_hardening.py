"""auth hardening: failed sign-ins kept for the login throttle"""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0010"
down_revision: str | None = "0009"

TABLES = (
    """
    auth_login_failure
    id        integer
    username  string 64
    address   string 64
    at        moment
    INDEX username address at
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
