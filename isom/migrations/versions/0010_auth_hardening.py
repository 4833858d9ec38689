"""auth hardening: failed sign-ins kept for the login throttle"""

from alembic import op

from isom.migrations.columns import create_tables

revision: str = "0010"
down_revision: str | None = "0009"

TABLES = (
    """
    auth_login_failure
    id        integer
    username  string 64
    address   string 64
    at        moment
    """,
)


def upgrade() -> None:
    create_tables(TABLES)
    with op.batch_alter_table("auth_login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_login_failure_username"), ["username"])
        batch_op.create_index(batch_op.f("ix_auth_login_failure_address"), ["address"])
        batch_op.create_index(batch_op.f("ix_auth_login_failure_at"), ["at"])


def downgrade() -> None:
    op.drop_table("auth_login_failure")
